#!/usr/bin/env bash
# The wasm runtime in every engine visitors run, each Debian's own build (scripts/setup.sh
# installs them): Chromium (playwright-core), Firefox ESR (puppeteer-core over WebDriver
# BiDi) and WebKitGTK's MiniBrowser (WebKitWebDriver under Xvfb); see
# tests/browser/lib/engines.mjs. In each: the official RandomX vectors through the JIT
# and the interpreter, and stop giving the CPU back within 100 ms (tests/engines/
# engines.test.mjs). CM_ENGINES=firefox,webkit picks engines. Needs build/wasm.
# tests/engines/pressure.test.mjs: Chromium's real Compute Pressure signal and the pause rule
# (60 s smoke here; CM_PRESSURE_SECONDS=120 for the 2-minute comparison).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -f build/wasm/consentminer.wasm ]]; then
  echo "engine tests: build/wasm is missing; run bash scripts/build.sh wasm" >&2
  exit 1
fi
for m in puppeteer-core selenium-webdriver playwright-core; do
  if [[ ! -d node_modules/$m ]]; then
    echo "engine tests: node_modules/$m is missing; run scripts/setup.sh" >&2
    exit 1
  fi
done
missing=()
for f in /usr/bin/chromium /usr/bin/firefox-esr /usr/bin/WebKitWebDriver /usr/bin/Xvfb; do
  [[ -x $f ]] || missing+=("$f")
done
if ((${#missing[@]})); then
  echo "engine tests: ${missing[*]} not installed; run scripts/setup.sh" >&2
  exit 1
fi
# One engine at a time: the machine has two cores and the tests measure CPU time.
exec node --test --test-concurrency=1 --test-timeout=600000 tests/engines/engines.test.mjs tests/engines/pressure.test.mjs "$@"
