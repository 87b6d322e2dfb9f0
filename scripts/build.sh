#!/usr/bin/env bash
# Configures and builds one preset (native by default): bash scripts/build.sh [PRESET]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-native}"
jobs="$(nproc)"
if [[ "$preset" == wasm ]]; then
  export NODE_PATH=/usr/share/nodejs   # emcc needs acorn from Debian's node modules
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
