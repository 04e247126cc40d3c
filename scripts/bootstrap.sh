#!/usr/bin/env bash
# Installs the pinned Bun (from the npm registry, so a machine with only Node.js and npm suffices)
# into .tools/, then the project's JavaScript dependencies from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN_VERSION="$(node -p 'require("./package.json").engines.bun')"
if [ ! -x .tools/node_modules/.bin/bun ] || [ "$(.tools/node_modules/.bin/bun --version)" != "$BUN_VERSION" ]; then
  echo "[bootstrap] installing bun@$BUN_VERSION into .tools/" >&2
  mkdir -p .tools
  npm install --prefix .tools --no-save --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >&2
fi
export PATH="$PWD/.tools/node_modules/.bin:$PATH"
echo "[bootstrap] bun $(bun --version): installing dependencies" >&2
bun install --frozen-lockfile 2>&1 | tail -n 3 >&2 || bun install >&2
