#!/usr/bin/env bash
# Ensures the PostgreSQL and Redis this machine's tests use are running, and stops what it started.
#   scripts/services.sh start   start them when they do not answer, wait until they do, create databases
#   scripts/services.sh stop    stop only what `start` started (recorded in .run/services.started)
# Fails loudly (non-zero, with the reason) when a service cannot be brought up.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_HOST="${MORGAN_TEST_PG_HOST:-127.0.0.1}"
PG_PORT="${MORGAN_TEST_PG_PORT:-5432}"
PG_USER="${MORGAN_TEST_PG_USER:-postgres}"
REDIS_HOST="${MORGAN_TEST_REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${MORGAN_TEST_REDIS_PORT:-6379}"
STATE_FILE=".run/services.started"
DATABASES=(morgan morgan_test)

say() { printf '[services] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

postgres_answers() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" 2>/dev/null; }
redis_answers() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

wait_until() { # wait_until <seconds> <command...>
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

record_started() { mkdir -p .run; echo "$1" >>"$STATE_FILE"; }

# On a fresh Debian machine without the servers, install them (as root, from Debian's packages).
# A cluster created here trusts local TCP connections: it exists only for the test suite.
install_missing() {
  local packages=()
  command -v pg_ctlcluster >/dev/null || packages+=(postgresql)
  command -v redis-server >/dev/null || packages+=(redis-server)
  [ "${#packages[@]}" -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "${packages[*]} missing; install them (apt-get install ${packages[*]})"
  say "installing ${packages[*]} from Debian's packages"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2 || die "apt-get install ${packages[*]} failed"
  if [[ " ${packages[*]} " == *" postgresql "* ]]; then
    local hba
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    done
  fi
}

start_postgres() {
  if postgres_answers; then say "postgres already answering on $PG_HOST:$PG_PORT"; return; fi
  command -v pg_ctlcluster >/dev/null || die "postgres is not answering on $PG_HOST:$PG_PORT and pg_ctlcluster is not installed"
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$version" ] || die "no PostgreSQL cluster under /etc/postgresql"
  say "starting postgres $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || die "pg_ctlcluster $version main start failed"
  wait_until 30 postgres_answers || die "postgres did not answer on $PG_HOST:$PG_PORT within 30 s"
  record_started "postgres $version"
}

start_redis() {
  if redis_answers; then say "redis already answering on $REDIS_HOST:$REDIS_PORT"; return; fi
  command -v redis-server >/dev/null || die "redis is not answering on $REDIS_HOST:$REDIS_PORT and redis-server is not installed"
  say "starting redis on port $REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || die "redis-server failed to start (see /var/log/redis/ci.log)"
  wait_until 15 redis_answers || die "redis did not answer on $REDIS_HOST:$REDIS_PORT within 15 s"
  record_started "redis"
}

create_databases() {
  local db
  for db in "${DATABASES[@]}"; do
    if [ "$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc "select 1 from pg_database where datname = '$db'")" != "1" ]; then
      psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "create database \"$db\"" || die "could not create database $db"
      say "created database $db"
    fi
  done
}

check_test_tools() {
  # The Redis-restart test starts a private redis-server on a spare port.
  command -v redis-server >/dev/null || die "redis-server is needed by the tests (apt-get install redis-server)"
}

stop_started() {
  [ -f "$STATE_FILE" ] || { say "nothing was started by services.sh"; return; }
  while read -r name version; do
    case "$name" in
      postgres) say "stopping postgres $version/main"; pg_ctlcluster --skip-systemctl-redirect "$version" main stop || say "postgres stop failed" ;;
      redis) say "stopping redis"; redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true ;;
    esac
  done <"$STATE_FILE"
  rm -f "$STATE_FILE"
}

case "${1:-}" in
  start)
    install_missing
    start_postgres
    start_redis
    create_databases
    check_test_tools
    say "postgres $PG_HOST:$PG_PORT and redis $REDIS_HOST:$REDIS_PORT ready"
    ;;
  stop) stop_started ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
