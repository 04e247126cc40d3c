#!/usr/bin/env bash
# Entry point of `bun run bench`: raises the open-file limit (1,000 sessions need a socket each on
# both ends, plus Triton streams) before handing over to the TypeScript harness.
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
cd "$(dirname "$0")/.."
exec bun bench/run.ts "$@"
