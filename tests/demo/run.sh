#!/usr/bin/env bash
# The main job's end-to-end test (the demo with Chromium, monerod and the gateway).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh native >/dev/null
bash scripts/build.sh wasm >/dev/null
node --test tests/demo/demo.test.mjs
