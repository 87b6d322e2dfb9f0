#!/usr/bin/env bash
# Differential test of the SuperscalarHash translator: RandomX's initDatasetItem against
# the translated module run in node, over many program sets; every module must also pass
# wasm-validate.
#   bash ss_test.sh SS_GEN [--long]
# CI size: 50 program sets x 200 items; --long: 1000 x 1000. SS_SEED=n repeats a run;
# NODE and WASM_VALIDATE name the tools (default: from PATH).
set -euo pipefail
gen="$1"
mode="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
sets=50 items=200
if [[ "$mode" == --long ]]; then sets=1000 items=1000; fi
seed="${SS_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
echo "ss_test: seed $seed (SS_SEED=$seed to repeat)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$gen" "$work" "$sets" "$items" "$seed"
for f in "$work"/ss_*.wasm; do
  "${WASM_VALIDATE:-wasm-validate}" --enable-all "$f" || { echo "ss_test: $f does not validate"; exit 1; }
done
"${NODE:-node}" "$here/run_ss.mjs" "$work"
