#!/usr/bin/env bash
# Stop the tritonserver started by start.sh: SIGTERM (Triton unloads models and exits cleanly),
# wait, and only if it ignores that for TRITON_STOP_TIMEOUT seconds, SIGKILL it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
# Triton itself gives in-flight work TRITON_EXIT_TIMEOUT (5 s) after SIGTERM; allow more than that.
TIMEOUT="${TRITON_STOP_TIMEOUT:-20}"

if [[ ! -f "$TRITON_PID_FILE" ]]; then
  echo "stop.sh: no pid file ($TRITON_PID_FILE); nothing to stop"
  exit 0
fi
PID="$(cat "$TRITON_PID_FILE")"
if ! kill -0 "$PID" 2>/dev/null; then
  echo "stop.sh: pid $PID is not running; removing stale pid file"
  rm -f "$TRITON_PID_FILE"
  exit 0
fi
# Guard against a recycled pid: only signal a process that is really tritonserver.
if [[ "$(cat "/proc/$PID/comm" 2>/dev/null)" != "tritonserver" ]]; then
  echo "stop.sh: pid $PID is not tritonserver; removing stale pid file"
  rm -f "$TRITON_PID_FILE"
  exit 0
fi
kill -TERM "$PID"
for _ in $(seq 1 $(( TIMEOUT * 10 ))); do
  if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$TRITON_PID_FILE"
    echo "stop.sh: tritonserver (pid $PID) stopped"
    exit 0
  fi
  sleep 0.1
done
echo "stop.sh: tritonserver (pid $PID) ignored SIGTERM for ${TIMEOUT}s; sending SIGKILL" >&2
kill -KILL "$PID" 2>/dev/null || true
rm -f "$TRITON_PID_FILE"
exit 1
