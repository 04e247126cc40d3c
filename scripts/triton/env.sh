# shellcheck shell=bash
# Shared paths for the Triton scripts. Sourced, not executed: it only sets variables.
# Everything is derived from the project-local .venv so that no global state is needed.
TRITON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRITON_VENV="${TRITON_VENV:-$TRITON_ROOT/.venv}"
TRITON_PY="$TRITON_VENV/bin/python"
TRITON_RUN_DIR="${TRITON_RUN_DIR:-$TRITON_ROOT/.run}"
TRITON_LOG="$TRITON_RUN_DIR/triton.log"
# The current tritonserver's pid (rewritten by the supervisor on every restart) and the supervisor's.
TRITON_PID_FILE="$TRITON_RUN_DIR/triton.pid"
TRITON_SUPERVISOR_PID_FILE="$TRITON_RUN_DIR/triton-supervisor.pid"
TRITON_MODEL_REPO="${TRITON_MODEL_REPO:-$TRITON_ROOT/triton-models/cpu}"
TRITON_HTTP_PORT="${TRITON_HTTP_PORT:-8100}"
TRITON_GRPC_PORT="${TRITON_GRPC_PORT:-8101}"
TRITON_METRICS_PORT="${TRITON_METRICS_PORT:-8102}"
# 1 = expose Prometheus metrics on TRITON_METRICS_PORT, 0 = no metrics endpoint.
TRITON_METRICS="${TRITON_METRICS:-1}"
# Seconds start.sh waits for every model to report ready.
TRITON_START_TIMEOUT="${TRITON_START_TIMEOUT:-120}"
# Models that must be ready before start.sh reports success (explicit model control loads them).
TRITON_MODELS="${TRITON_MODELS:-vad stt llm tts turn}"
