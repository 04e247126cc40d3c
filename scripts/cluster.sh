#!/usr/bin/env bash
# Morgan scaled out on one machine, with the machinery a real deployment uses:
#   HAProxy (Debian's package) :8400 -> three Morgan gateways (:8410-8412), health-checked on /ready
#   two Tritons (:8421 and :8431 gRPC), each serving the real CPU VAD, STT and end-of-turn models and the
#     bench's instant LLM and TTS (bench/models: one fixed reply at once), so two Tritons and three
#     gateways fit two CPU cores
#   Redis with Sentinel (scripts/redis-ha.sh: primary :6400, replica :6401, Sentinels :26380-26382)
#   PostgreSQL: the one scripts/services.sh runs (:5432), database morgan_cluster
#
#   scripts/cluster.sh up | down | status
#   scripts/cluster.sh kill-gateway N | term-gateway N | start-gateway N   (N = 1..3)
#   scripts/cluster.sh kill-triton N                                       (N = 1..2; its supervisor restarts it)
#   scripts/cluster.sh fail-redis | restore-redis                          (kill -9 the Redis primary; bring it back)
#
# Idempotent: `up` starts only what is not running; `down` stops everything `up` started (pid files
# under CLUSTER_DIR) and leaves the database. Logs: CLUSTER_DIR (default .run/cluster).
# Settings (environment): CLUSTER_DIR, CLUSTER_PORT_BASE (8400: HAProxy; +1 its stats page; +10.. the
# gateways; +20.. and +30.. the Tritons), CLUSTER_DATABASE, REDIS_HA_PORTS / REDIS_HA_SENTINEL_PORTS
# (scripts/redis-ha.sh). Every MORGAN_* variable set by the caller reaches all three gateways
# unchanged (e.g. MORGAN_AUTH_MODE and MORGAN_API_KEYS: every gateway must carry the same credentials).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"

DIR="${CLUSTER_DIR:-$ROOT/.run/cluster}"
BASE="${CLUSTER_PORT_BASE:-8400}"
LB_PORT="$BASE"
STATS_PORT=$((BASE + 1))
GATEWAYS=(1 2 3)
gateway_port() { echo $((BASE + 9 + $1)); }
TRITONS=(1 2)
triton_http_port() { echo $((BASE + 10 * ($1 + 1))); }
triton_grpc_port() { echo $((BASE + 10 * ($1 + 1) + 1)); }
triton_metrics_port() { echo $((BASE + 10 * ($1 + 1) + 2)); }
DATABASE="${CLUSTER_DATABASE:-morgan_cluster}"
PG_ADMIN_URL="${MORGAN_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_HA_DIR="$DIR/redis"
export REDIS_HA_NAME="${REDIS_HA_NAME:-morgan}"
read -r -a SENTINEL_PORTS <<<"${REDIS_HA_SENTINEL_PORTS:-26380 26381 26382}"
TRITON_MODELS_SERVED="vad stt turn instant-llm instant-tts"
# Gateways drain within this on SIGTERM; `down` waits a little longer before SIGKILL.
STOP_WAIT_S="${CLUSTER_STOP_WAIT_S:-40}"

say() { printf '[cluster %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
http_ok() { curl -sf -o /dev/null --max-time 2 "$1"; }

wait_until() { # wait_until <seconds> <what> <command...>
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

need_tools() {
  command -v haproxy >/dev/null || die "haproxy missing: scripts/test-tools.sh installs it (apt-get install haproxy)"
  command -v redis-sentinel >/dev/null || die "redis-sentinel missing: scripts/test-tools.sh installs it"
  command -v psql >/dev/null || die "psql missing: scripts/services.sh needs PostgreSQL's client too"
  command -v bun >/dev/null || die "bun missing: run scripts/bootstrap.sh"
  [[ -x "$ROOT/.venv/bin/python" ]] || die "the Triton environment is missing: run scripts/triton/install.sh"
}

# ---------------------------------------------------------------- PostgreSQL

postgres_up() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    say "PostgreSQL not answering: scripts/services.sh start"
    scripts/services.sh start
  fi
  if [[ "$(psql "$PG_ADMIN_URL" -tAc "select 1 from pg_database where datname = '$DATABASE'")" != 1 ]]; then
    psql "$PG_ADMIN_URL" -qc "create database $DATABASE" >/dev/null
    say "PostgreSQL: database $DATABASE created"
  else
    say "PostgreSQL: database $DATABASE present"
  fi
}

# ---------------------------------------------------------------- Tritons

triton_script() { # triton_script N start.sh|stop.sh: scripts/triton/* with Triton N's settings
  local n="$1"
  (
    export TRITON_RUN_DIR="$DIR/triton-$n" TRITON_MODEL_REPO="$DIR/triton-repo/models" TRITON_MODELS="$TRITON_MODELS_SERVED"
    export TRITON_HTTP_PORT="$(triton_http_port "$n")" TRITON_GRPC_PORT="$(triton_grpc_port "$n")" TRITON_METRICS_PORT="$(triton_metrics_port "$n")"
    bash "scripts/triton/$2"
  )
}

# One repository both Tritons serve: links to the CPU models and the bench's instant models, with
# lib/ and weights/ beside it as in triton-models/ (the model files find them at ../lib, ../weights).
assemble_triton_repository() {
  local repo="$DIR/triton-repo"
  rm -rf "$repo"
  mkdir -p "$repo/models"
  local model
  for model in vad stt turn; do ln -s "$ROOT/triton-models/cpu/$model" "$repo/models/$model"; done
  for model in instant-llm instant-tts; do ln -s "$ROOT/bench/models/$model" "$repo/models/$model"; done
  ln -s "$ROOT/triton-models/lib" "$repo/lib"
  ln -s "$ROOT/triton-models/weights" "$repo/weights"
}

triton_ready() { http_ok "http://127.0.0.1:$(triton_http_port "$1")/v2/health/ready"; }

tritons_up() {
  local n pids=() starting=()
  [[ -d "$DIR/triton-repo/models" ]] || assemble_triton_repository
  for n in "${TRITONS[@]}"; do
    if triton_ready "$n"; then say "Triton $n: already ready on gRPC :$(triton_grpc_port "$n")"; continue; fi
    if alive "$DIR/triton-$n/triton-supervisor.pid"; then
      # Its supervisor is restarting it (after a crash): wait rather than start a second one.
      say "Triton $n: being restarted by its supervisor; waiting until ready"
      wait_until 180 "Triton $n" triton_ready "$n" || die "Triton $n not ready within 180 s (log $DIR/triton-$n/triton.log)"
      continue
    fi
    say "Triton $n: starting on gRPC :$(triton_grpc_port "$n") ($TRITON_MODELS_SERVED); log $DIR/triton-$n/triton.log"
    mkdir -p "$DIR/triton-$n"
    triton_script "$n" start.sh >"$DIR/triton-$n.start.log" 2>&1 &
    pids+=($!)
    starting+=("$n")
  done
  local failed=0 i
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { failed=1; say "Triton ${starting[$i]} failed to start:"; tail -n 20 "$DIR/triton-${starting[$i]}.start.log"; }; done
  ((failed == 0)) || die "a Triton did not start (logs in $DIR)"
  say "Tritons: both ready"
}

tritons_down() {
  local n
  for n in "${TRITONS[@]}"; do
    [[ -d "$DIR/triton-$n" ]] || continue
    triton_script "$n" stop.sh >>"$DIR/triton-$n.start.log" 2>&1 || true
    say "Triton $n: stopped"
  done
}

# ---------------------------------------------------------------- gateways

triton_urls() {
  local n urls=()
  for n in "${TRITONS[@]}"; do urls+=("127.0.0.1:$(triton_grpc_port "$n")"); done
  (IFS=,; echo "${urls[*]}")
}

gateway_start() {
  local n="$1" port pidfile
  port="$(gateway_port "$n")"
  pidfile="$DIR/gateway-$n.pid"
  if alive "$pidfile"; then say "gateway $n: already running (pid $(cat "$pidfile"), :$port)"; return; fi
  local sentinels=() s
  for s in "${SENTINEL_PORTS[@]}"; do sentinels+=("127.0.0.1:$s"); done
  mkdir -p "$DIR/gateway-$n/journal"
  local tritons
  # Every gateway gets both Tritons: it health-checks them and sends each request to the least busy one.
  tritons="$(triton_urls)"
  # The pid file holds the server's own pid (exec keeps it), so a fault hits the server, not a wrapper.
  PORT="$port" MORGAN_HOST=127.0.0.1 \
    DATABASE_URL="${PG_ADMIN_URL%/*}/$DATABASE" \
    REDIS_SENTINELS="$(IFS=,; echo "${sentinels[*]}")" REDIS_SENTINEL_NAME="$REDIS_HA_NAME" \
    MORGAN_REDIS_MAX_RECONNECT_DELAY_MS="${MORGAN_REDIS_MAX_RECONNECT_DELAY_MS:-200}" \
    TRITON_URL="$tritons" MORGAN_TRITON_KEEPALIVE_MS="${MORGAN_TRITON_KEEPALIVE_MS:-30000}" \
    MORGAN_TRITON_MODEL_LLM="${MORGAN_TRITON_MODEL_LLM:-instant-llm}" MORGAN_TRITON_MODEL_TTS="${MORGAN_TRITON_MODEL_TTS:-instant-tts}" \
    MORGAN_JOURNAL_DIR="$DIR/gateway-$n/journal" LOG_LEVEL="${LOG_LEVEL:-info}" \
    setsid bash -c 'echo $$ >"$0"; exec bun run src/main.ts' "$pidfile" >>"$DIR/gateway-$n.log" 2>&1 </dev/null &
  wait_until 60 "gateway $n" http_ok "http://127.0.0.1:$port/ready" || { tail -n 30 "$DIR/gateway-$n.log" >&2; die "gateway $n not ready on :$port within 60 s"; }
  say "gateway $n: ready on :$port (pid $(cat "$pidfile"), Triton $tritons; log $DIR/gateway-$n.log)"
}

gateway_signal() { # gateway_signal N SIGNAL
  local pidfile="$DIR/gateway-$1.pid"
  alive "$pidfile" || die "gateway $1 is not running"
  kill -s "$2" "$(cat "$pidfile")"
  say "gateway $1: sent $2 (pid $(cat "$pidfile"))"
}

gateways_down() {
  local n pidfile pid
  for n in "${GATEWAYS[@]}"; do
    pidfile="$DIR/gateway-$n.pid"
    alive "$pidfile" && kill -TERM "$(cat "$pidfile")"
  done
  for n in "${GATEWAYS[@]}"; do
    pidfile="$DIR/gateway-$n.pid"
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    wait_until "$STOP_WAIT_S" "gateway $n" bash -c "! kill -0 $pid 2>/dev/null" || { kill -9 "$pid" 2>/dev/null || true; say "gateway $n: killed after ${STOP_WAIT_S}s"; }
    rm -f "$pidfile"
    say "gateway $n: stopped"
  done
}

# ---------------------------------------------------------------- HAProxy

# deploy/haproxy/haproxy.cfg (what docker-compose runs) with this machine's addresses: the bind
# address, a connection limit within this shell's file limit, no Docker resolver, the gateways' ports,
# and a stats page.
haproxy_config() {
  local maxconn=$(( ($(ulimit -n) - 100) / 2 ))
  ((maxconn < 20000)) || maxconn=20000
  sed -e "s/^    bind :8000$/    bind 127.0.0.1:$LB_PORT/" \
      -e "s/^    maxconn 20000$/    maxconn $maxconn/" \
      -e '/^resolvers docker$/,/^$/d' \
      -e 's/ resolvers docker init-addr last,libc,none$//' \
      -e '/^    server core-/d' \
      "$ROOT/deploy/haproxy/haproxy.cfg"
  local n
  for n in "${GATEWAYS[@]}"; do echo "    server gateway-$n 127.0.0.1:$(gateway_port "$n")"; done
  cat <<EOF

frontend stats
    bind 127.0.0.1:$STATS_PORT
    stats enable
    stats uri /
    stats refresh 2s
EOF
}

haproxy_up() {
  local pidfile="$DIR/haproxy.pid"
  haproxy_config >"$DIR/haproxy.cfg"
  haproxy -c -q -f "$DIR/haproxy.cfg" || die "generated $DIR/haproxy.cfg is invalid"
  if alive "$pidfile"; then say "HAProxy: already running (pid $(cat "$pidfile"), :$LB_PORT)"; return; fi
  setsid bash -c 'echo $$ >"$0"; exec haproxy -db -f "$1"' "$pidfile" "$DIR/haproxy.cfg" >>"$DIR/haproxy.log" 2>&1 </dev/null &
  wait_until 10 haproxy http_ok "http://127.0.0.1:$LB_PORT/ready" || die "HAProxy not answering on :$LB_PORT (log $DIR/haproxy.log)"
  wait_until 20 "haproxy checks" haproxy_sees_all_up || say "warning: HAProxy does not see every gateway up yet (scripts/cluster.sh status)"
  say "HAProxy: ready on :$LB_PORT (stats http://127.0.0.1:$STATS_PORT/; log $DIR/haproxy.log)"
}

haproxy_servers() { # "gateway-N STATUS" lines from the stats page
  curl -sf --max-time 2 "http://127.0.0.1:$STATS_PORT/;csv" | awk -F, '$1 == "gateways" && $2 ~ /^gateway-/ { print $2, $18 }'
}

haproxy_sees_all_up() { [[ "$(haproxy_servers | grep -c ' UP$')" == "${#GATEWAYS[@]}" ]]; }

haproxy_down() {
  local pidfile="$DIR/haproxy.pid"
  if alive "$pidfile"; then
    kill "$(cat "$pidfile")"
    wait_until 10 haproxy bash -c "! kill -0 $(cat "$pidfile") 2>/dev/null" || kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    say "HAProxy: stopped"
  fi
  rm -f "$pidfile"
}

# ---------------------------------------------------------------- commands

up() {
  need_tools
  mkdir -p "$DIR"
  say "up: state and logs in $DIR"
  postgres_up
  say "Redis with Sentinel: scripts/redis-ha.sh start"
  scripts/redis-ha.sh start | sed 's/^/  /'
  tritons_up
  local n
  for n in "${GATEWAYS[@]}"; do gateway_start "$n"; done
  haproxy_up
  say "up: ws://127.0.0.1:$LB_PORT/ws/stream (through HAProxy); scripts/cluster.sh status | down"
}

down() {
  say "down: stopping what up started"
  haproxy_down
  gateways_down
  tritons_down
  if [[ -d "$REDIS_HA_DIR" ]]; then scripts/redis-ha.sh stop | sed 's/^/  /'; fi
  say "down: nothing left running (database $DATABASE kept)"
}

status() {
  local n pidfile port
  if alive "$DIR/haproxy.pid"; then say "HAProxy :$LB_PORT up (pid $(cat "$DIR/haproxy.pid"))"; else say "HAProxy :$LB_PORT down"; fi
  if alive "$DIR/haproxy.pid"; then
    haproxy_servers | sed 's/^/  haproxy sees /'
  fi
  for n in "${GATEWAYS[@]}"; do
    pidfile="$DIR/gateway-$n.pid"
    port="$(gateway_port "$n")"
    if ! alive "$pidfile"; then say "gateway $n :$port down"; continue; fi
    if http_ok "http://127.0.0.1:$port/ready"; then say "gateway $n :$port ready (pid $(cat "$pidfile"))"; else say "gateway $n :$port running, not ready (pid $(cat "$pidfile"))"; fi
  done
  for n in "${TRITONS[@]}"; do
    if http_ok "http://127.0.0.1:$(triton_http_port "$n")/v2/health/ready"; then say "Triton $n gRPC :$(triton_grpc_port "$n") ready"; else say "Triton $n gRPC :$(triton_grpc_port "$n") down"; fi
  done
  scripts/redis-ha.sh status | sed 's/^/  /'
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kill-gateway) gateway_signal "${2:?gateway number}" KILL ;;
  term-gateway) gateway_signal "${2:?gateway number}" TERM ;;
  start-gateway) need_tools; gateway_start "${2:?gateway number}" ;;
  kill-triton)
    pidfile="$DIR/triton-${2:?triton number}/triton.pid"
    alive "$pidfile" || die "Triton $2 is not running"
    kill -9 "$(cat "$pidfile")"
    say "Triton $2: killed (-9) tritonserver pid $(cat "$pidfile"); its supervisor restarts it"
    ;;
  fail-redis) say "Redis primary killed (-9): port $(scripts/redis-ha.sh kill-primary)" ;;
  restore-redis) scripts/redis-ha.sh restart-stopped ;;
  *) die "usage: scripts/cluster.sh up|down|status|kill-gateway N|term-gateway N|start-gateway N|kill-triton N|fail-redis|restore-redis" ;;
esac
