#!/usr/bin/env bash
# Redis with Sentinel on this machine, from Debian's redis-server and redis-sentinel: a primary, a
# replica and three Sentinels, on private ports, so the shared Redis (6379) is never touched.
#   scripts/redis-ha.sh start|stop|status|primary|kill-primary|restart-stopped
# Used by scripts/cluster.sh and by tests/redis-sentinel.test.ts; settings by environment:
#   REDIS_HA_DIR             state, logs and pid files        (default .run/redis-ha)
#   REDIS_HA_PORTS           primary and replica ports        (default "6400 6401")
#   REDIS_HA_SENTINEL_PORTS  the three Sentinels' ports       (default "26380 26381 26382")
#   REDIS_HA_NAME            the primary's name in Sentinel    (default morgan)
#   REDIS_HA_DOWN_AFTER_MS   silence before a primary is down (default 1000: a test wants fast failover;
#                            production keeps Sentinel's default of 30 s or a few seconds, see docs/storage.md)
# Idempotent: start leaves running nodes alone; stop ends only the processes whose pid files it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${REDIS_HA_DIR:-$PWD/.run/redis-ha}"
read -r -a DATA_PORTS <<<"${REDIS_HA_PORTS:-6400 6401}"
read -r -a SENTINEL_PORTS <<<"${REDIS_HA_SENTINEL_PORTS:-26380 26381 26382}"
NAME="${REDIS_HA_NAME:-morgan}"
DOWN_AFTER_MS="${REDIS_HA_DOWN_AFTER_MS:-1000}"
QUORUM=2

log() { printf 'redis-ha: %s\n' "$*"; }
die() { printf 'redis-ha: %s\n' "$*" >&2; exit 1; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The first `primary` the Sentinels agree on names the initial primary; before that, the first port.
initial_primary() { printf '%s' "${DATA_PORTS[0]}"; }

need_tools() {
  command -v redis-server >/dev/null || die "redis-server missing (apt-get install redis-server)"
  command -v redis-sentinel >/dev/null || die "redis-sentinel missing (apt-get install redis-sentinel; scripts/test-tools.sh installs it)"
  command -v redis-cli >/dev/null || die "redis-cli missing (apt-get install redis-tools)"
}

start_data_node() {
  local port="$1" role_args=()
  local pidfile="$DIR/redis-$port.pid"
  if alive "$pidfile"; then log "redis $port already running (pid $(cat "$pidfile"))"; return; fi
  if [[ "$port" != "$(initial_primary)" ]]; then role_args=(--replicaof 127.0.0.1 "$(initial_primary)"); fi
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --pidfile "$pidfile" \
    --logfile "$DIR/redis-$port.log" --dir "$DIR" --dbfilename "dump-$port.rdb" --save "" --appendonly no \
    "${role_args[@]}"
  log "redis $port started${role_args:+ (replica of $(initial_primary))}"
}

start_sentinel() {
  local port="$1"
  local pidfile="$DIR/sentinel-$port.pid" conf="$DIR/sentinel-$port.conf"
  if alive "$pidfile"; then log "sentinel $port already running (pid $(cat "$pidfile"))"; return; fi
  # Sentinel rewrites its file with what it learns (replicas, peers, epochs): a fresh one each start.
  cat >"$conf" <<EOF
port $port
bind 127.0.0.1
daemonize yes
pidfile $pidfile
logfile $DIR/sentinel-$port.log
dir $DIR
sentinel monitor $NAME 127.0.0.1 $(initial_primary) $QUORUM
sentinel down-after-milliseconds $NAME $DOWN_AFTER_MS
sentinel failover-timeout $NAME 10000
sentinel parallel-syncs $NAME 1
EOF
  redis-sentinel "$conf"
  log "sentinel $port started (monitors $NAME, quorum $QUORUM, down after ${DOWN_AFTER_MS} ms)"
}

# Sentinel's answer to "who is the primary?", as host:port; empty when none answers.
primary() {
  local port reply
  for port in "${SENTINEL_PORTS[@]}"; do
    reply=$(redis-cli -p "$port" --raw sentinel get-master-addr-by-name "$NAME" 2>/dev/null | paste -sd: -) || continue
    if [[ "$reply" =~ ^[0-9.]+:[0-9]+$ ]]; then printf '%s\n' "$reply"; return 0; fi
  done
  return 1
}

wait_ready() {
  local deadline=$((SECONDS + 30)) port
  while ((SECONDS < deadline)); do
    local ok=1
    for port in "${SENTINEL_PORTS[@]}"; do
      # Every Sentinel must see the quorum reachable and know at least one replica to promote.
      redis-cli -p "$port" sentinel ckquorum "$NAME" 2>/dev/null | grep -q '^OK' || { ok=0; break; }
      [[ "$(redis-cli -p "$port" --raw sentinel replicas "$NAME" 2>/dev/null | grep -c '^name$')" -ge 1 ]] || { ok=0; break; }
    done
    if ((ok)); then log "ready: primary $(primary), ${#SENTINEL_PORTS[@]} sentinels agree"; return 0; fi
    sleep 0.2
  done
  die "sentinels did not reach quorum with a replica within 30 s (logs in $DIR)"
}

start() {
  need_tools
  mkdir -p "$DIR"
  local port
  for port in "${DATA_PORTS[@]}"; do start_data_node "$port"; done
  for port in "${SENTINEL_PORTS[@]}"; do start_sentinel "$port"; done
  wait_ready
}

stop() {
  local pidfile pid
  shopt -s nullglob
  for pidfile in "$DIR"/sentinel-*.pid "$DIR"/redis-*.pid; do
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    rm -f "$pidfile"
  done
  log "stopped"
}

status() {
  local port pidfile
  for port in "${DATA_PORTS[@]}"; do
    pidfile="$DIR/redis-$port.pid"
    if alive "$pidfile"; then log "redis $port: $(redis-cli -p "$port" --raw role 2>/dev/null | head -1)"; else log "redis $port: down"; fi
  done
  for port in "${SENTINEL_PORTS[@]}"; do
    pidfile="$DIR/sentinel-$port.pid"
    if alive "$pidfile"; then log "sentinel $port: up"; else log "sentinel $port: down"; fi
  done
  if current=$(primary); then log "primary: $current"; else log "primary: unknown"; fi
}

# kill -9 the current primary (a crash, not a clean shutdown); prints its port.
kill_primary() {
  local current port
  current=$(primary) || die "no primary known to the sentinels"
  port="${current##*:}"
  kill -9 "$(cat "$DIR/redis-$port.pid")"
  printf '%s\n' "$port"
}

# Brings every stopped data node back; Sentinel turns a former primary into a replica of the new one.
restart_stopped() {
  local port
  for port in "${DATA_PORTS[@]}"; do
    alive "$DIR/redis-$port.pid" && continue
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --pidfile "$DIR/redis-$port.pid" \
      --logfile "$DIR/redis-$port.log" --dir "$DIR" --dbfilename "dump-$port.rdb" --save "" --appendonly no
    log "redis $port restarted (Sentinel will make it a replica)"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  primary) primary || die "no primary known to the sentinels" ;;
  kill-primary) kill_primary ;;
  restart-stopped) restart_stopped ;;
  *) die "usage: $0 start|stop|status|primary|kill-primary|restart-stopped" ;;
esac
