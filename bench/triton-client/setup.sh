#!/usr/bin/env bash
# Creates the Python env holding NVIDIA's reference client (tritonclient[grpc]) that
# the benchmark compares against. The server itself comes from the project .venv
# (scripts/triton/install.sh), like in packages/triton-client's tests.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet "tritonclient[grpc]==2.73.0" "numpy==1.26.4"
.venv/bin/python -c "import tritonclient.grpc; print('tritonclient ready')"
