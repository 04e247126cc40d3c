#!/usr/bin/env bash
# Install everything the CPU Triton setup needs, idempotently:
#   - Debian packages: flite + libflite1 (TTS), libpython3.X only if the interpreter has no shared
#     libpython (the python backend stub links it dynamically);
#   - a project-local .venv with the pinned closure in triton-models/requirements.txt, which brings
#     the real tritonserver binary (nvidia-pytriton wheel), onnxruntime, Silero VAD, PocketSphinx
#     (with its model), tritonclient and pytest.
# Re-running is cheap: apt is skipped when the packages are present, pip when the requirements
# file has not changed since the last successful install.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${TRITON_VENV:-$ROOT/.venv}"
REQ="$ROOT/triton-models/requirements.txt"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.morgan-triton-requirements.sha256"
step() { echo "install.sh: $*"; }

command -v "$PYTHON" >/dev/null || { echo "install.sh: $PYTHON not found" >&2; exit 1; }
PYVER="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
case "$PYVER" in
  3.8|3.9|3.10|3.11|3.12|3.13) ;;
  *) echo "install.sh: Python $PYVER has no python backend stub in nvidia-pytriton 0.7.0 (3.8-3.13)" >&2; exit 1 ;;
esac

# --- Debian packages -------------------------------------------------------------------------
APT_NEEDED=()
for pkg in flite libflite1; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || APT_NEEDED+=("$pkg")
done
SHARED="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("Py_ENABLE_SHARED") or 0)')"
if [[ "$SHARED" != "1" ]] && ! ldconfig -p | grep -q "libpython$PYVER.so"; then
  APT_NEEDED+=("libpython$PYVER")
fi
if (( ${#APT_NEEDED[@]} )); then
  step "apt-get install ${APT_NEEDED[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${APT_NEEDED[@]}" >/dev/null
else
  step "Debian packages present (flite, libflite1)"
fi

# --- virtualenv --------------------------------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  step "creating $VENV with $("$PYTHON" -V)"
  "$PYTHON" -m venv "$VENV"
fi
WANT="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  step "Python packages up to date ($REQ unchanged)"
else
  step "pip install --no-deps -r $REQ (about 150 MB of wheels)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$REQ"
  echo "$WANT" >"$STAMP"
fi

# --- checks ------------------------------------------------------------------------------------
step "checking the installation"
"$VENV/bin/python" - "$PYVER" <<'PY'
import importlib.util, os, subprocess, sys, sysconfig
import numpy, onnxruntime, pocketsphinx, tritonclient.grpc  # noqa: F401
site = sysconfig.get_paths()["purelib"]
ts = os.path.join(site, "pytriton", "tritonserver")
need = [
    os.path.join(ts, "bin", "tritonserver"),
    os.path.join(ts, "backends", "python", "libtriton_python.so"),
    os.path.join(ts, "python_backend_stubs", sys.argv[1], "triton_python_backend_stub"),
    os.path.join(list(importlib.util.find_spec("silero_vad").submodule_search_locations)[0], "data", "silero_vad.onnx"),
]
missing = [p for p in need if not os.path.exists(p)]
if missing:
    sys.exit("install.sh: missing after install: " + ", ".join(missing))
if int(numpy.__version__.split(".")[0]) >= 2:
    sys.exit("install.sh: numpy>=2 in the venv breaks the python backend stub")
env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(site, "nvidia_pytriton.libs"))
out = subprocess.run([need[0], "--help"], env=env, capture_output=True, text=True)
if "Usage: tritonserver" not in out.stdout + out.stderr:
    sys.exit("install.sh: tritonserver does not run:\n" + out.stdout + out.stderr)
print("install.sh: ok: tritonserver, python backend stub for Python " + sys.argv[1] + ", Silero ONNX, PocketSphinx, onnxruntime "
      + onnxruntime.__version__ + ", numpy " + numpy.__version__)
PY
