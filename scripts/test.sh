#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, starts PostgreSQL, Redis and a
# real Triton (CPU models) when they are not running, then runs the type check, the Bun tests and the
# Triton model tests. Exits non-zero on any failure. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$PATH"

step() { printf '\n==> %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "bootstrap: bun and JavaScript dependencies"
scripts/bootstrap.sh

step "services: PostgreSQL and Redis"
scripts/services.sh start

step "test tools (Debian packages)"
scripts/test-tools.sh

step "triton: install into .venv (idempotent; the first run builds llama.cpp, 7-15 min)"
scripts/triton/install.sh

step "triton: start on triton-models/cpu"
started_triton=0
if ! curl -sf "http://127.0.0.1:${TRITON_HTTP_PORT:-8100}/v2/health/ready" >/dev/null 2>&1; then started_triton=1; fi
scripts/triton/start.sh
cleanup() { if [ "$started_triton" = 1 ]; then scripts/triton/stop.sh || true; fi; }
trap cleanup EXIT

step "test-only Python packages"
.venv/bin/python -m pip install -q -r tests/requirements.txt

# The tests reach this Triton, and read its log to see cancellations arrive at the models.
export TRITON_URL="127.0.0.1:${TRITON_GRPC_PORT:-8101}"
# The Grafana dashboard's test checks the Triton metrics it reads against this Triton's.
export TRITON_METRICS_PORT="${TRITON_METRICS_PORT:-8102}"
export TRITON_LOG_FILE="$PWD/.run/triton.log"

step "type check"
bunx tsc --noEmit -p tsconfig.json
bunx tsc --noEmit -p tsconfig.browser.json

mkdir -p .run
step "bun tests"
bun test --timeout 120000 "$@" 2>&1 | tee .run/bun-test.log

step "triton model tests (NVIDIA's tritonclient)"
.venv/bin/python -m pytest -q tests/triton 2>&1 | tee .run/pytest.log

# One closing line for both runners (each already failed the script above on any failure).
bun_passed=$(grep -Eo '^ *[0-9]+ pass$' .run/bun-test.log | grep -Eo '[0-9]+' | tail -n 1)
bun_failed=$(grep -Eo '^ *[0-9]+ fail$' .run/bun-test.log | grep -Eo '[0-9]+' | tail -n 1)
py_passed=$(grep -Eo '[0-9]+ passed' .run/pytest.log | grep -Eo '[0-9]+' | tail -n 1)
py_failed=$(grep -Eo '[0-9]+ failed' .run/pytest.log | grep -Eo '[0-9]+' | tail -n 1 || true)
echo
echo "all: $(( ${bun_passed:-0} + ${py_passed:-0} )) passed, $(( ${bun_failed:-0} + ${py_failed:-0} )) failed"
