#!/usr/bin/env bash
# consentminer tests — RandomX hashes of the wasm build against the native build.
#
#   bash tests/wasm/diff-hashes.sh [COUNT] [--seed S] [--jobs J] [--oracle lib|cli]
#
# Hashes COUNT (default 1000) random (key, input) pairs (tests/wasm/gen-pairs.mjs: few
# keys, many inputs) with `node wasm/cli.mjs hash --batch` in J parallel processes
# (default 2) and with a native oracle, and fails on any difference. Oracles:
#   lib  Debian's librandomx with its default flags (JIT, hardware AES), the library
#        build/native links; one process, the cache kept across a key's inputs (default)
#   cli  build/native/consentminer hash, one process per pair (about 0.7 s each)
# With the lib oracle, the first 3 pairs are also checked against build/native/consentminer
# when it exists. wasm light mode hashes about 2.5 per second per process, so 1000 pairs
# take some minutes on 2 cores; CI runs 20.
set -euo pipefail
cd "$(dirname "$0")/../.."
count=1000 seed=1 jobs=2 oracle=lib
while (($#)); do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --oracle) oracle="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) count="$1"; shift ;;
  esac
done
cli=build/native/consentminer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node tests/wasm/gen-pairs.mjs "$count" "$seed" > "$work/pairs"
keys=$(cut -d' ' -f1 "$work/pairs" | uniq | wc -l)
echo "diff-hashes: $count pairs under $keys keys (seed $seed), wasm in $jobs processes, oracle $oracle"

# Native side, in the background while wasm runs.
if [[ $oracle == lib ]]; then
  mkdir -p build/h-wasm-native
  if [[ ! -x build/h-wasm-native/rx_hash_batch || tests/wasm/rx_hash_batch.c -nt build/h-wasm-native/rx_hash_batch ]]; then
    cc -std=c11 -O2 -o build/h-wasm-native/rx_hash_batch tests/wasm/rx_hash_batch.c -lrandomx
  fi
  build/h-wasm-native/rx_hash_batch < "$work/pairs" > "$work/native" &
else
  [[ -x $cli ]] || { echo "diff-hashes: $cli not built (cmake --preset native && cmake --build build/native)"; exit 1; }
  ( while read -r k i; do "$cli" hash --key-hex "$k" --input-hex "${i:-}"; done < "$work/pairs" > "$work/native" ) &
fi
native_pid=$!

# wasm side: split by whole key groups so that each process builds each cache once.
t0=$SECONDS
awk -v jobs="$jobs" -v dir="$work" '
  $1 != last { g++; last = $1 } { print > (dir "/chunk." (g % jobs)) }' "$work/pairs"
pids=()
for ((j = 0; j < jobs; j++)); do
  [[ -f $work/chunk.$j ]] || continue
  node wasm/cli.mjs hash --batch "$work/chunk.$j" > "$work/wasm.$j" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
wait "$native_pid"
echo "diff-hashes: hashed in $((SECONDS - t0)) s"

# Put the wasm results back in pair order.
awk -v jobs="$jobs" -v dir="$work" '
  $1 != last { g++; last = $1 }
  { f = dir "/wasm." (g % jobs); if ((getline h < f) <= 0) h = "MISSING"; print h }' "$work/pairs" > "$work/wasm"

mismatch=0
paste -d' ' "$work/native" "$work/wasm" > "$work/both"
line=0
while read -r n w; do
  line=$((line + 1))
  if [[ $n != "$w" ]]; then
    mismatch=$((mismatch + 1))
    ((mismatch <= 5)) && echo "MISMATCH pair $line ($(sed -n "${line}p" "$work/pairs" | cut -c1-80)...): native=$n wasm=$w"
  fi
done < "$work/both"
lines=$(wc -l < "$work/native")
if [[ $lines -ne $count ]]; then
  echo "diff-hashes: the native oracle gave $lines hashes for $count pairs"; exit 1
fi

if [[ $oracle == lib && -x $cli ]]; then
  for line in 1 2 3; do
    ((line <= count)) || break
    read -r k i < <(sed -n "${line}p" "$work/pairs")
    c=$("$cli" hash --key-hex "$k" --input-hex "${i:-}")
    w=$(sed -n "${line}p" "$work/wasm")
    if [[ $c != "$w" ]]; then
      mismatch=$((mismatch + 1))
      echo "MISMATCH pair $line with $cli hash: native=$c wasm=$w"
    fi
  done
  echo "diff-hashes: the first pairs checked against $cli hash too"
fi
if ((mismatch)); then
  echo "diff-hashes: $mismatch of $count hashes differ"
  exit 1
fi
echo "diff-hashes: all $count wasm hashes equal the native ones"
