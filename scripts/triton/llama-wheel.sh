#!/usr/bin/env bash
# Builds the llama-cpp-python wheel once and keeps it in a project-local cache; prints its path.
# PyPI ships llama-cpp-python only as source, and its default build uses -march=native, which would
# make the cached wheel crash on a CPU without this one's instructions. So the build is portable: a
# fixed x86-64 level chosen from the CPU's flags (x86-64-v3 = AVX2/FMA/F16C/BMI2, else x86-64-v2),
# and the cache is keyed by version and level. The first build takes 7-15 minutes on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
PY="${1:?usage: llama-wheel.sh PYTHON}"
CACHE="${MORGAN_WHEEL_CACHE:-$ROOT/.cache/wheels}"
say() { echo "llama-wheel.sh: $*" >&2; }

common=(-DLLAMA_CURL=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
        -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=OFF)
case "$(uname -m)" in
  x86_64)
    flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
    if [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* && " $flags " == *" f16c "* && " $flags " == *" bmi2 "* ]]; then
      level=x86-64-v3
      isa=(-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF)
    else
      level=x86-64-v2
      isa=(-DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_AVX512=OFF)
    fi ;;
  *) level="$(uname -m)-generic"; isa=() ;;
esac
DIR="$CACHE/llama-cpp-python-$VERSION-$level"
wheel="$(ls "$DIR"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
if [[ -n "$wheel" ]]; then
  say "cached wheel $wheel"
  echo "$wheel"
  exit 0
fi

for tool in cmake g++; do
  command -v "$tool" >/dev/null || { say "$tool is needed to build llama-cpp-python (scripts/triton/install.sh installs it)"; exit 1; }
done
mkdir -p "$DIR" "$CACHE/src"
SDIST="$CACHE/src/llama_cpp_python-$VERSION.tar.gz"
if [[ ! -f "$SDIST" ]] || ! echo "$SHA256  $SDIST" | sha256sum -c --status; then
  say "downloading llama-cpp-python $VERSION source (75 MB)"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$CACHE/src" "llama-cpp-python==$VERSION"
  echo "$SHA256  $SDIST" | sha256sum -c --status || { say "checksum mismatch for $SDIST"; exit 1; }
fi
say "building llama-cpp-python $VERSION for $level from source: the first build takes 7-15 minutes on 2 cores; later installs reuse $DIR"
log="$DIR/build.log"
started=$(date +%s)
# Progress: ninja prints [step/total]; show every tenth of the way.
if ! CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" CMAKE_ARGS="${common[*]} ${isa[*]}" \
    "$PY" -m pip wheel -v --disable-pip-version-check --no-deps -w "$DIR" "$SDIST" 2>&1 \
    | tee "$log" \
    | awk '/^ *\[[0-9]+\/[0-9]+\]/ { split(substr($1, 2), p, "/"); step = int(p[1]); total = int(p[2]);
             tenth = int(step * 10 / total); if (tenth > shown) { shown = tenth; printf "llama-wheel.sh: compiled %d/%d\n", step, total; fflush() } }' >&2; then
  say "build failed; the last lines of $log:"
  tail -n 40 "$log" >&2
  exit 1
fi
wheel="$(ls "$DIR"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
[[ -n "$wheel" ]] || { say "no wheel in $DIR after the build; see $log"; exit 1; }
say "built $wheel in $(( $(date +%s) - started )) s"
echo "$wheel"
