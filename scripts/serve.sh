#!/usr/bin/env bash
# Installs everything and runs Morgan on this machine: the pinned Bun and dependencies, a real
# Triton with the CPU models (started if not running), and the server on port 8000 — on embedded
# PGlite and the in-process cache unless DATABASE_URL / REDIS_URL (or POSTGRES_* / REDIS_*) are set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$PATH"

scripts/bootstrap.sh
scripts/triton/install.sh
scripts/triton/start.sh
export TRITON_URL="${TRITON_URL:-127.0.0.1:${TRITON_GRPC_PORT:-8101}}"
echo "[serve] Morgan on http://127.0.0.1:${PORT:-8000} (Triton at $TRITON_URL; stop Triton with scripts/triton/stop.sh)" >&2
exec bun run src/main.ts
