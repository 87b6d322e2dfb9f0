#!/usr/bin/env bash
# consentminer — the wasm suite, CI-sized (a few minutes on 2 cores):
#  1. builds the `wasm` preset (core + patched RandomX, both module builds, test driver)
#  2. the rounding layer against this machine's hardware: natively (tests/unit/test_fround.c,
#     1M operands per operation and mode) and compiled to wasm (tests/wasm/fround-check.mjs)
#  3. the official RandomX vectors through `node wasm/cli.mjs hash` (text and hex forms),
#     with the JIT and with --no-jit (RandomX's interpreter)
#  4. random (key, input) pairs, wasm against native, through the JIT (40) and the
#     interpreter (20) (10,000 for each path: bash tests/wasm/diff-hashes.sh --long);
#     and 2 minutes of JIT hashing with memory checked flat, in node and in headless
#     Chromium (an hour: node bench/wasm-soak.mjs [--chromium])
#  5. the JS runtime in node: consent first, gateway session, shares, pause, stop,
#     shared cache, throttle (tests/wasm/runtime.test.mjs)
#  6. `node wasm/cli.mjs bench` prints native bench's JSON fields
# Ends with "N passed, N failed" and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs} # emcc 3.1.6 needs it to find acorn
passed=0 failed=0 failed_names=()

step() { # name command...
  local name=$1; shift
  echo "--- wasm: $name"
  local t0=$SECONDS
  if "$@"; then passed=$((passed + 1)); echo "--- wasm: $name: ok ($((SECONDS - t0)) s)"
  else failed=$((failed + 1)); failed_names+=("$name"); echo "--- wasm: $name: FAILED ($((SECONDS - t0)) s)"; fi
}

build() {
  [[ -f third_party/randomx/.sha256 ]] || bash scripts/fetch-randomx-source.sh || return 1
  if [[ ! -f build/wasm/CMakeCache.txt ]]; then cmake --preset wasm >/dev/null || return 1; fi
  cmake --build build/wasm -j2 2>&1 | grep -Ev '^\[|pthreads-mem-growth|^$' ; [[ ${PIPESTATUS[0]} -eq 0 ]] || return 1
  mkdir -p build/h-wasm-native
  cc -std=c11 -O2 -Wall -Wextra -Werror -o build/h-wasm-native/fround_table tests/wasm/fround_table.c -lm &&
    cc -std=c11 -O2 -Wall -Wextra -Werror -ffp-contract=off -Iwasm/src -o build/h-wasm-native/test_fround tests/unit/test_fround.c wasm/src/fround.c -lcmocka -lm &&
    cc -std=c11 -O2 -Wall -Wextra -Werror -o build/h-wasm-native/rx_hash_batch tests/wasm/rx_hash_batch.c -lrandomx
}

# The official vectors through one of the wasm build's paths: "" (JIT) or --no-jit
# (RandomX's interpreter).
vectors_path() { # [--no-jit]
  local bad=0 n=0 kind key input want got tag=jit
  [[ ${1:-} == --no-jit ]] && tag=interpreter
  while IFS='|' read -r kind key input want; do
    [[ -z $kind || $kind == \#* ]] && continue
    n=$((n + 1))
    if [[ $kind == text ]]; then
      got=$(node wasm/cli.mjs hash --key-text "$key" --input-text "$input" "$@")
    else
      got=$(node wasm/cli.mjs hash --key-hex "$key" --input-hex "$input" "$@")
    fi
    if [[ $got == "$want" ]]; then echo "ok   $tag $key / ${input:0:30}"; else echo "FAIL $tag $key / ${input:0:30}: got $got, want $want"; bad=$((bad + 1)); fi
  done < tests/vectors/randomx.txt
  # The first vector again in hex form.
  IFS='|' read -r _ key input want < <(grep '^text|' tests/vectors/randomx.txt | head -n1)
  got=$(node wasm/cli.mjs hash --key-hex "$(printf %s "$key" | od -An -tx1 | tr -d ' \n')" \
    --input-hex "$(printf %s "$input" | od -An -tx1 | tr -d ' \n')" "$@")
  if [[ $got == "$want" ]]; then echo "ok   $tag (hex form) $key / $input"; else echo "FAIL $tag (hex form): got $got"; bad=$((bad + 1)); fi
  ((n > 0 && bad == 0))
}

vectors() {
  local rc=0
  vectors_path || rc=1
  vectors_path --no-jit || rc=1
  return $rc
}

bench_fields() {
  local out
  out=$(node wasm/cli.mjs bench --seconds 2 --json) || return 1
  echo "$out"
  node -e '
    const r = JSON.parse(process.argv[1]);
    for (const k of ["mode", "threads", "hashes", "seconds", "hashrate", "init_seconds", "large_pages"])
      if (!(k in r)) { console.error("missing field " + k); process.exit(1); }
    if (r.mode !== "light" || r.threads !== 1 || !(r.hashes > 0)) process.exit(1);' "$out"
}

step "build (cmake --preset wasm)" build || { echo "0 passed, 1 failed"; exit 1; }
step "rounding layer, native vs hardware (5 ops x 4 modes x 1M)" build/h-wasm-native/test_fround
step "rounding layer, wasm vs hardware table (5 ops x 4 modes x 1M)" \
  node tests/wasm/fround-check.mjs build/h-wasm-native/fround_table 1000000
step "official RandomX vectors via node wasm/cli.mjs hash, JIT and --no-jit" vectors
step "random pairs, wasm (JIT 40, interpreter 20) vs native" \
  bash tests/wasm/diff-hashes.sh 40 --keys 2 --interpreter-pairs 20 --seed "${CM_DIFF_SEED:-$(date +%Y%m%d)}"
step "memory stays flat while the JIT hashes (2 min; the hour: node bench/wasm-soak.mjs)" \
  node bench/wasm-soak.mjs --minutes 2 --sample-seconds 4 --out build/h-wasm-native/wasm-soak-2m.json
step "memory stays flat while the JIT hashes in Chromium (2 min; the hour: node bench/wasm-soak.mjs --chromium)" \
  node bench/wasm-soak.mjs --chromium --minutes 2 --sample-seconds 4 --out build/h-wasm-native/wasm-soak-2m-chromium.json
step "JS runtime in node (node --test)" node --test --test-concurrency=1 tests/wasm/
step "node wasm/cli.mjs bench --json fields" bench_fields

echo
((failed)) && echo "wasm: failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
((failed == 0))
