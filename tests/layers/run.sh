#!/usr/bin/env bash
# The layer check on the repository, and on small trees that break each rule once (so the
# check is seen to fail where it must, naming the file).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
check="$here/../../scripts/check-layers.sh"
failed=0; passed=0
expect() { # name want-exit want-text root
  local out rc
  out=$(bash "$check" "$4" 2>&1); rc=$?
  if [[ $rc -eq $2 && $out == *"$3"* ]]; then passed=$((passed + 1)); echo "ok - $1"
  else failed=$((failed + 1)); echo "not ok - $1 (exit $rc, wanted $2 and \"$3\"):"; echo "$out"; fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mk() { # dir: a clean minimal tree
  mkdir -p "$1/core/src" "$1/native/src" "$1/wasm/src" "$1/consent-ui"
  echo '#include "consentminer/job.h"' > "$1/core/src/job.c"
  echo '#include <uv.h>' > "$1/native/src/loop.c"
  echo '/* */' > "$1/native/src/stratum_client.h"
  echo '#include "consentminer/job.h"' > "$1/wasm/src/session.c"
  printf "const m = await import('./miner.mjs');\n" > "$1/consent-ui/consent-miner.js"
}
expect "the repository keeps to its layers" 0 "keep to their layers" "$here/../.."
mk "$tmp/clean"; expect "a clean tree passes" 0 "keep to their layers" "$tmp/clean"
mk "$tmp/uv"; echo '#include <uv.h>' >> "$tmp/uv/core/src/job.c"
expect "core including libuv fails" 1 "core/src/job.c:2: core/ includes an outside library's header" "$tmp/uv"
mk "$tmp/tls"; echo '#  include "mbedtls/ssl.h"' > "$tmp/tls/core/src/x.c"
expect "core including mbedTLS fails" 1 "core/src/x.c:1" "$tmp/tls"
mk "$tmp/nat"; echo '#include "../../native/src/stratum_client.h"' > "$tmp/nat/core/src/y.c"
expect "core including a native header fails" 1 "core/ includes a native/ header" "$tmp/nat"
mk "$tmp/wn"; echo '#include "stratum_client.h"' >> "$tmp/wn/wasm/src/session.c"
expect "wasm including a native header fails" 1 "wasm/ includes a native/ header" "$tmp/wn"
mk "$tmp/imp"; echo "import { createMiner } from '../wasm/js/miner.mjs';" >> "$tmp/imp/consent-ui/consent-miner.js"
expect "the element importing the runtime statically fails" 1 "consent-ui/consent-miner.js:2: consent-ui/ imports the runtime statically" "$tmp/imp"
echo "$passed passed, $failed failed"
((failed == 0))
