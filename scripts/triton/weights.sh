#!/usr/bin/env bash
# Fetches the weights that ship inside a package Morgan does not otherwise need, into
# triton-models/weights/ (shared by the CPU and GPU repositories). Today: Smart Turn v3.2's ONNX file
# (8 MB, BSD-2-Clause), which ships in the pipecat-ai wheel: the wheel is downloaded once with
# --no-deps and only that file is extracted; Pipecat itself is not installed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${1:-python3}"
CACHE="${MORGAN_WHEEL_CACHE:-$ROOT/.cache/wheels}"
DEST="$ROOT/triton-models/weights"
PIPECAT=pipecat-ai==1.14.0
MEMBER=pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx
SHA256=2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f
target="$DEST/smart-turn-v3.2-cpu.onnx"

if [[ -f "$target" ]] && echo "$SHA256  $target" | sha256sum -c --status; then
  echo "weights.sh: $target present"
  exit 0
fi
mkdir -p "$DEST" "$CACHE/downloads"
wheel="$(ls "$CACHE"/downloads/pipecat_ai-1.14.0-*.whl 2>/dev/null | head -n 1 || true)"
if [[ -z "$wheel" ]]; then
  echo "weights.sh: downloading the $PIPECAT wheel (12 MB) for Smart Turn's ONNX file"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: -d "$CACHE/downloads" "$PIPECAT"
  wheel="$(ls "$CACHE"/downloads/pipecat_ai-1.14.0-*.whl | head -n 1)"
fi
"$PY" - "$wheel" "$MEMBER" "$target.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
echo "$SHA256  $target.tmp" | sha256sum -c --status || { echo "weights.sh: checksum mismatch for $MEMBER" >&2; rm -f "$target.tmp"; exit 1; }
mv "$target.tmp" "$target"
echo "weights.sh: extracted $target"
