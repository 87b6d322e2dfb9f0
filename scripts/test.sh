#!/usr/bin/env bash
# Runs every test suite: native (Release), native under ASan+UBSan, and the wasm,
# browser and fuzz smoke suites when their parts exist. Exits non-zero if any failed.
# Expects scripts/setup.sh to have run (the README's test command does both).
set -uo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
passed=0; failed=0; failed_names=()

suite() { # name command...
  local name="$1"; shift
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then passed=$((passed+1)); echo "=== $name: ok ($((SECONDS-t0)) s)"
  else failed=$((failed+1)); failed_names+=("$name"); echo "=== $name: FAILED ($((SECONDS-t0)) s)"; fi
}

native_tests() { # preset
  bash scripts/build.sh "$1" && ctest --preset "$1" --timeout 900
}

# The wasm build first: the gateway's and the browser's end-to-end tests run real wasm
# clients, and skip (or, with CM_BROWSER_REQUIRE_REAL=1, fail) without it.
export CM_BROWSER_REQUIRE_REAL=1
suite "layer check" bash tests/layers/run.sh
suite "wasm build" bash scripts/build.sh wasm
suite "native build + ctest" native_tests native
suite "native-asan build + ctest" native_tests native-asan
[[ -f tests/wasm/run.sh ]] && suite "wasm" bash tests/wasm/run.sh
[[ -f tests/browser/run.sh ]] && suite "browser" bash tests/browser/run.sh
[[ -f fuzz/run.sh ]] && suite "fuzz smoke" bash fuzz/run.sh --smoke
suite "demo end to end" bash tests/demo/run.sh

echo
if ((failed)); then echo "failed suites: ${failed_names[*]}"; fi
echo "suites: $passed passed, $failed failed"
((failed == 0))
