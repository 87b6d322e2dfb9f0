#!/usr/bin/env bash
# `consentminer audit` against fixture sites with known verdicts, in Debian's headless
# Chromium (never a downloaded browser), driven by playwright-core from the root
# node_modules. Fixture servers run on 127.0.0.1, random ports. Exits non-zero when a
# test fails; node --test prints the summary. The consent element's fixtures use the real
# gateway and consent frame (build/native, build/wasm, monerod, as tests/browser does);
# without them they skip and say what is missing. About 3-4 minutes on a busy 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  echo "audit tests: $CHROMIUM is missing; install Debian's chromium (scripts/setup.sh)" >&2
  exit 1
fi
if [[ ! -d node_modules/playwright-core || ! -d node_modules/ws ]]; then
  echo "audit tests: playwright-core/ws missing from node_modules; run scripts/setup.sh" >&2
  exit 1
fi
export CHROMIUM
# One test at a time: the machine has two cores and the audit measures CPU time.
exec node --test --test-concurrency=1 --test-timeout=300000 tests/audit/stratum.test.mjs tests/audit/audit.test.mjs "$@"
