#!/usr/bin/env bash
# Browser tests of <consent-miner> and its consent frame in Debian's headless Chromium
# (never a downloaded browser), driven by playwright-core from the root node_modules. All
# run against the real parts on two origins (lib/real-stack.mjs): the site's page with the
# host element, the real gateway serving the frame, the wasm runtime and /ws, and a
# regtest monerod; each test skips, naming what is missing, until those parts are built
# (CM_BROWSER_REQUIRE_REAL=1 turns those skips into failures).
#   attacks.test.mjs  issue 14: what a page's scripts and styles try, and that it starts nothing
#   frame.test.mjs    the frame: remembered choices, languages, pauses, tabs, small screens, a11y
#   e2e.test.mjs      the honest path: a real click mines; stop, revoke, renewal, page limits
#   site.test.mjs     React 19 and Vue 3 apps drive the element by properties; Coinhive-style
#                     figures; dark scheme and theming; a static site set up from the README
# Exits non-zero when a test fails; node --test prints the summary.
set -euo pipefail
cd "$(dirname "$0")/../.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  echo "browser tests: $CHROMIUM is missing; install Debian's chromium (scripts/setup.sh)" >&2
  exit 1
fi
if [[ ! -d node_modules/playwright-core || ! -f node_modules/axe-core/axe.min.js ]]; then
  echo "browser tests: playwright-core/axe-core missing from node_modules; run scripts/setup.sh" >&2
  exit 1
fi
# The Japanese disclosure needs a CJK font, or its screenshot shows empty boxes.
if ! fc-list ':lang=ja' 2>/dev/null | grep -q .; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "browser tests: installing fonts-noto-cjk for the Japanese texts"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null; }
  else
    echo "browser tests: no Japanese font; install fonts-noto-cjk (as root)" >&2
    exit 1
  fi
fi

mkdir -p tests/browser/out docs/screenshots
export CHROMIUM
# One file at a time: the machine has two cores and the tests measure CPU time.
exec node --test --test-concurrency=1 --test-timeout=240000 \
  tests/browser/package.test.mjs tests/browser/attacks.test.mjs tests/browser/frame.test.mjs \
  tests/browser/e2e.test.mjs tests/browser/site.test.mjs "$@"
