#!/usr/bin/env bash
# Start the real tritonserver (from the nvidia-pytriton wheel) on Morgan's CPU model repository,
# under scripts/triton/supervise.py, which restarts it when it exits and kills and restarts it when it
# hangs (Triton 2.51 crashes under bursts of cancellations; docs/triton.md).
# Idempotent: if a Triton on TRITON_HTTP_PORT already reports every model ready, exit 0 at once.
set -euo pipefail
source "$(dirname "$0")/env.sh"

if [[ ! -x "$TRITON_PY" ]]; then
  echo "start.sh: $TRITON_PY missing; run scripts/triton/install.sh first" >&2
  exit 1
fi

# Probe readiness of the server and of each required model over HTTP (exit 0 = all ready).
probe_ready() {
  "$TRITON_PY" - "$TRITON_HTTP_PORT" $TRITON_MODELS <<'PY'
import sys, urllib.request
port, models = sys.argv[1], sys.argv[2:]
urls = [f"http://127.0.0.1:{port}/v2/health/ready"] + [f"http://127.0.0.1:{port}/v2/models/{m}/ready" for m in models]
try:
    for u in urls:
        with urllib.request.urlopen(u, timeout=2) as r:
            if r.status != 200:
                sys.exit(1)
except Exception:
    sys.exit(1)
PY
}

if probe_ready; then
  echo "start.sh: Triton already ready on http://127.0.0.1:$TRITON_HTTP_PORT (models: $TRITON_MODELS)"
  exit 0
fi

mkdir -p "$TRITON_RUN_DIR"
if [[ -f "$TRITON_SUPERVISOR_PID_FILE" ]] && kill -0 "$(cat "$TRITON_SUPERVISOR_PID_FILE")" 2>/dev/null; then
  echo "start.sh: a supervised tritonserver (supervisor pid $(cat "$TRITON_SUPERVISOR_PID_FILE")) is running but not ready; stop it first (scripts/triton/stop.sh)" >&2
  exit 1
fi
if [[ -f "$TRITON_PID_FILE" ]] && kill -0 "$(cat "$TRITON_PID_FILE")" 2>/dev/null; then
  echo "start.sh: a tritonserver (pid $(cat "$TRITON_PID_FILE")) is running but not ready; stop it first (scripts/triton/stop.sh)" >&2
  exit 1
fi

# Locate the pieces inside the wheel.
SITE="$("$TRITON_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PYVER="$("$TRITON_PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
PYLIBDIR="$("$TRITON_PY" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')"
WHEEL="$SITE/pytriton/tritonserver"
WHEEL_LIBS="$SITE/nvidia_pytriton.libs"
STUB="$WHEEL/python_backend_stubs/$PYVER/triton_python_backend_stub"
for f in "$WHEEL/bin/tritonserver" "$WHEEL/backends/python/libtriton_python.so" "$STUB"; do
  [[ -e "$f" ]] || { echo "start.sh: missing $f (is nvidia-pytriton installed in $TRITON_VENV?)" >&2; exit 1; }
done

# The python backend runs models in the stub found next to libtriton_python.so, and the stub must
# match the interpreter whose packages the models import. The wheel keeps stubs per Python version
# elsewhere, so assemble a backend directory under .run on every start (a stale stub from another
# Python version would otherwise be picked up silently).
BACKENDS="$TRITON_RUN_DIR/backends"
rm -rf "$BACKENDS"
mkdir -p "$BACKENDS/python"
cp "$WHEEL/backends/python/libtriton_python.so" "$WHEEL/backends/python/triton_python_backend_utils.py" "$BACKENDS/python/"
cp "$STUB" "$BACKENDS/python/triton_python_backend_stub"
chmod +x "$BACKENDS/python/triton_python_backend_stub"

# The stub links libpython3.X.so dynamically: prefer the venv interpreter's own shared library (same
# patch release as the packages), then the system one. The wheel's bundled libs are always needed.
export LD_LIBRARY_PATH="$WHEEL_LIBS${PYLIBDIR:+:$PYLIBDIR}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The stub embeds the interpreter in isolated mode (PYTHONPATH is ignored). With no program name it
# finds its prefix by looking up `python3` on PATH; with the venv's bin first that is the venv's
# python, whose pyvenv.cfg makes the venv's site-packages (pinned numpy<2 etc.) the ones models see,
# instead of whatever the base interpreter has installed globally.
export PATH="$TRITON_VENV/bin:$PATH"

ARGS=(
  --model-repository="$TRITON_MODEL_REPO"
  --backend-directory="$BACKENDS"
  --model-control-mode=explicit
  --load-model='*'
  --http-port="$TRITON_HTTP_PORT"
  --grpc-port="$TRITON_GRPC_PORT"
  --http-address=127.0.0.1
  --grpc-address=127.0.0.1
  --strict-readiness=true
  # Let Morgan's client ping idle connections (every 30 s with MORGAN_TRITON_KEEPALIVE_MS=30000) without
  # Triton answering GOAWAY(too_many_pings), which would break every stream on the connection.
  --grpc-keepalive-permit-without-calls=1
  --grpc-http2-max-pings-without-data=0
  --grpc-http2-min-recv-ping-interval-without-data=10000
  --exit-on-error=true
  --log-verbose="${TRITON_LOG_VERBOSE:-0}"
  # On SIGTERM Triton waits for in-flight requests and open sequences; an abandoned sequence would
  # otherwise hold shutdown for the default 30 s.
  --exit-timeout-secs="${TRITON_EXIT_TIMEOUT:-5}"
)
if [[ "$TRITON_METRICS" == "1" ]]; then
  ARGS+=(--allow-metrics=true --allow-gpu-metrics=false --allow-cpu-metrics=true --metrics-port="$TRITON_METRICS_PORT" --metrics-address=127.0.0.1)
else
  ARGS+=(--allow-metrics=false)
fi

echo "start.sh: starting tritonserver on HTTP $TRITON_HTTP_PORT / gRPC $TRITON_GRPC_PORT (metrics: $([[ $TRITON_METRICS == 1 ]] && echo "$TRITON_METRICS_PORT" || echo off)); repository $TRITON_MODEL_REPO"
: >"$TRITON_LOG"
rm -f "$TRITON_PID_FILE"
# setsid: the supervisor gets its own session so the caller's terminal signals don't reach it and
# stop.sh can signal it by pid alone. It appends the server's output and its own restart lines to
# TRITON_LOG and keeps the current server's pid in TRITON_PID_FILE.
TRITON_LOG="$TRITON_LOG" TRITON_PID_FILE="$TRITON_PID_FILE" TRITON_HTTP_PORT="$TRITON_HTTP_PORT" TRITON_START_TIMEOUT="$TRITON_START_TIMEOUT" \
  setsid "$TRITON_PY" "$(dirname "$0")/supervise.py" -- "$WHEEL/bin/tritonserver" "${ARGS[@]}" >>"$TRITON_LOG" 2>&1 < /dev/null &
SUPERVISOR=$!
echo "$SUPERVISOR" >"$TRITON_SUPERVISOR_PID_FILE"

deadline=$(( $(date +%s) + TRITON_START_TIMEOUT ))
while true; do
  if probe_ready; then
    echo "start.sh: ready in $(( TRITON_START_TIMEOUT - (deadline - $(date +%s)) ))s (pid $(cat "$TRITON_PID_FILE" 2>/dev/null), supervisor pid $SUPERVISOR, log $TRITON_LOG)"
    exit 0
  fi
  # A server that cannot start would be restarted forever: the first exit before ready is final here.
  if ! kill -0 "$SUPERVISOR" 2>/dev/null || grep -q "supervise.py: restarting" "$TRITON_LOG"; then
    echo "start.sh: tritonserver exited before becoming ready; last log lines:" >&2
    tail -n 60 "$TRITON_LOG" >&2
    "$(dirname "$0")/stop.sh" >&2 || true
    exit 1
  fi
  if (( $(date +%s) >= deadline )); then
    echo "start.sh: not ready after ${TRITON_START_TIMEOUT}s; last log lines:" >&2
    tail -n 60 "$TRITON_LOG" >&2
    # Do not leave a half-started server behind: the next start.sh would refuse to run.
    "$(dirname "$0")/stop.sh" >&2 || true
    exit 1
  fi
  sleep 0.5
done
