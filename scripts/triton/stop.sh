#!/usr/bin/env bash
# Stop the tritonserver started by start.sh and its supervisor: SIGTERM to the supervisor, which stops
# restarting and gives the server SIGTERM (Triton unloads models and exits cleanly) and SIGKILL only if
# it ignores that. If the supervisor itself does not finish within TRITON_STOP_TIMEOUT seconds, both
# are SIGKILLed. A server started without a supervisor (an older start.sh) is stopped the same way.
set -euo pipefail
source "$(dirname "$0")/env.sh"
# Triton itself gives in-flight work TRITON_EXIT_TIMEOUT (5 s) after SIGTERM; allow more than that.
TIMEOUT="${TRITON_STOP_TIMEOUT:-20}"

# Prints the pid in $1 if that process is alive and its command is $2 (a recycled pid is not ours).
live_pid() {
  [[ -f "$1" ]] || return 1
  local pid
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# Waits up to TIMEOUT seconds for pid $1 to exit.
gone_within_timeout() {
  for _ in $(seq 1 $(( TIMEOUT * 10 ))); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# SIGTERM to pid $1 ($2 names it), then SIGKILL if it has not exited within TIMEOUT; 1 if it needed the SIGKILL.
terminate() {
  kill -TERM "$1"
  if gone_within_timeout "$1"; then
    echo "stop.sh: $2 (pid $1) stopped"
    return 0
  fi
  echo "stop.sh: $2 (pid $1) ignored SIGTERM for ${TIMEOUT}s; sending SIGKILL" >&2
  kill -KILL "$1" 2>/dev/null || true
  return 1
}

status=0
if SUPERVISOR="$(live_pid "$TRITON_SUPERVISOR_PID_FILE" supervise.py)"; then
  terminate "$SUPERVISOR" "tritonserver and its supervisor" || status=1
fi
rm -f "$TRITON_SUPERVISOR_PID_FILE"

if PID="$(live_pid "$TRITON_PID_FILE" tritonserver)"; then
  terminate "$PID" tritonserver || status=1
elif [[ -z "${SUPERVISOR:-}" ]]; then
  echo "stop.sh: no running tritonserver ($TRITON_PID_FILE); nothing to stop"
fi
rm -f "$TRITON_PID_FILE"
exit "$status"
