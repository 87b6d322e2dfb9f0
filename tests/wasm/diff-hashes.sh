#!/usr/bin/env bash
# consentminer tests — RandomX hashes of the wasm build against the native build, through
# both of the wasm build's paths: programs translated to wasm at run time (JIT) and
# RandomX's interpreter (`node wasm/cli.mjs hash --batch [--no-jit]`).
#
#   bash tests/wasm/diff-hashes.sh [PAIRS] [--keys K] [--inputs M] [--interpreter-pairs N]
#        [--path both|jit|interpreter] [--seed S] [--jobs J] [--oracle lib|cli]
#        [--allow-no-jit] [--corrupt I]
#   bash tests/wasm/diff-hashes.sh --long     10,000 pairs (20 keys x 500 inputs), each path
#
# Hashes PAIRS (default 1000; or K keys x M inputs) random (key, input) pairs
# (tests/wasm/gen-pairs.mjs; K defaults to one key per 100 pairs, at least 2) with a
# native oracle and with wasm in J parallel processes (default 2), once per path, and
# fails on any difference. --interpreter-pairs N: the interpreter hashes only N of the
# pairs, spread over all the keys (it is ~6x slower); CI runs
#   diff-hashes.sh 40 --keys 2 --interpreter-pairs 20
# Each key costs a cache initialisation per process (wasm ~1-2 s), so long runs use few
# keys and many inputs. Rates per process on this 2-core VM (`node wasm/cli.mjs bench`,
# 2026-11-26, the JIT with its float module): JIT ~11 H/s, interpreter ~2.5 H/s; --long
# then takes ~8 min (JIT) + ~35 min (interpreter). It prints an estimate first and progress every
# 30 s (CM_DIFF_PROGRESS seconds), with the time to go at the rate so far. Oracles:
#   lib  Debian's librandomx with its default flags (JIT, hardware AES), the library
#        build/native links; one process, the cache kept across a key's inputs (default)
#   cli  build/native/consentminer hash, one process per pair (about 0.7 s each)
# With the lib oracle, the first 3 pairs are also checked against build/native/consentminer
# when it exists. The JIT path fails when this wasm build has no JIT (the runtime would
# quietly use the interpreter); --allow-no-jit skips that path instead. --corrupt I flips
# a digit of the native hash of pair I, to see the comparison fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
count=1000 keys='' inputs='' interp='' path=both seed=1 jobs=2 oracle=lib allow_no_jit=0 corrupt=0
while (($#)); do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --inputs) inputs="$2"; shift 2 ;;
    --interpreter-pairs) interp="$2"; shift 2 ;;
    --path) path="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --oracle) oracle="$2"; shift 2 ;;
    --allow-no-jit) allow_no_jit=1; shift ;;
    --corrupt) corrupt="$2"; shift 2 ;;
    --long) keys=20 inputs=500; shift ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "diff-hashes: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) count="$1"; shift ;;
  esac
done
isnum() { [[ $1 =~ ^[0-9]+$ && $1 -gt 0 ]]; }
if [[ -n $inputs ]]; then
  isnum "$inputs" && isnum "${keys:-x}" || { echo "diff-hashes: --inputs needs --keys; both positive integers" >&2; exit 2; }
  count=$((keys * inputs))
fi
isnum "$count" || { echo "diff-hashes: PAIRS is '$count'; expected a positive integer" >&2; exit 2; }
[[ -z $keys ]] || isnum "$keys" || { echo "diff-hashes: --keys is '$keys'; expected a positive integer" >&2; exit 2; }
[[ -z $interp ]] || isnum "$interp" || { echo "diff-hashes: --interpreter-pairs is '$interp'; expected a positive integer" >&2; exit 2; }
[[ $path == both || $path == jit || $path == interpreter ]] || { echo "diff-hashes: --path is '$path'; expected both, jit or interpreter" >&2; exit 2; }
[[ $oracle == lib || $oracle == cli ]] || { echo "diff-hashes: --oracle is '$oracle'; expected lib or cli" >&2; exit 2; }
isnum "$jobs" || { echo "diff-hashes: --jobs is '$jobs'; expected a positive integer" >&2; exit 2; }
interp=${interp:-$count}
((interp <= count)) || interp=$count

cli=build/native/consentminer
work=$(mktemp -d)
progress_pid=''
cleanup() {
  [[ -z $progress_pid ]] || kill "$progress_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

node tests/wasm/gen-pairs.mjs "$count" "$seed" $keys > "$work/pairs"
nkeys=$(cut -d' ' -f1 "$work/pairs" | uniq | wc -l)

# Which paths run, and whether this build's JIT is there at all (cm_wasm_set_jit reports
# the path it will use; without the translators it stays on the interpreter).
paths=()
if [[ $path != interpreter ]]; then
  probe=$(node --input-type=module -e "
    import { compileWasm, jitSupport } from './wasm/js/env.mjs';
    import { instantiate } from './wasm/js/instance.mjs';
    const s = jitSupport();
    if (!s.ok) { console.log('no: ' + s.why); process.exit(0); }
    const inst = await instantiate(new URL('./build/wasm/consentminer.mjs', 'file://' + process.cwd() + '/').href,
      await compileWasm(new URL('./build/wasm/consentminer.wasm', 'file://' + process.cwd() + '/').href));
    console.log(inst.setJit(true) ? 'yes' : 'no: this wasm build has no JIT');") || probe='no: the probe failed'
  if [[ $probe == yes ]]; then
    paths+=(jit)
  elif ((allow_no_jit)); then
    echo "diff-hashes: JIT path skipped (${probe#no: })"
  else
    echo "diff-hashes: the JIT path cannot run: ${probe#no: } (--allow-no-jit skips it)"; exit 1
  fi
fi
[[ $path == jit ]] || paths+=(interpreter)

# Rough rates per process (see the top), for the estimate only.
estimate() { # pairs rate_per_process
  local procs=$((jobs < nkeys ? jobs : nkeys))
  echo $(( ($1 * 100 / $2 + nkeys * 20) / (10 * procs) + 1 ))
}
echo "diff-hashes: $count pairs under $nkeys keys (seed $seed), wasm in $jobs processes, oracle $oracle"
for p in "${paths[@]}"; do
  if [[ $p == jit ]]; then echo "  jit: $count pairs, about $(estimate "$count" 110) s"
  else echo "  interpreter: $interp pairs, about $(estimate "$interp" 25) s"; fi
done

# The interpreter's share: the first pairs of every key, N spread as evenly as possible.
awk -v n="$interp" -v dir="$work" '
  NR == FNR { if ($1 != last) { g++; last = $1 } size[g]++; next }
  FNR == 1 { G = g; last = ""; g = 0 }
  $1 != last { g++; last = $1; k = 0 }
  { if (k++ < int(n / G) + (g <= n % G ? 1 : 0)) { print > (dir "/pairs.interpreter"); print FNR > (dir "/lines.interpreter") } }
' "$work/pairs" "$work/pairs"
cp "$work/pairs" "$work/pairs.jit"
seq 1 "$count" > "$work/lines.jit"

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

# One path: split by whole key groups so that each process builds each cache once, hash,
# and put the results back in pair order in $work/wasm.<path>.
run_path() { # jit|interpreter
  local p=$1 flag='' n t0 pids=() j
  [[ $p == jit ]] || flag=--no-jit
  n=$(wc -l < "$work/pairs.$p")
  rm -f "$work"/chunk.* "$work"/out.*
  awk -v jobs="$jobs" -v dir="$work" '
    $1 != last { g++; last = $1 } { print > (dir "/chunk." (g % jobs)) }' "$work/pairs.$p"
  t0=$SECONDS
  for ((j = 0; j < jobs; j++)); do
    [[ -f $work/chunk.$j ]] || continue
    : > "$work/out.$j"
    node wasm/cli.mjs hash --batch "$work/chunk.$j" $flag > "$work/out.$j" & pids+=($!)
  done
  ( while sleep "${CM_DIFF_PROGRESS:-30}"; do
      local done_n el
      done_n=$(cat "$work"/out.* 2>/dev/null | wc -l)
      el=$((SECONDS - t0))
      echo "  $p: $done_n/$n hashed in $el s$( ((done_n > 0)) && echo ", about $(( (n - done_n) * el / done_n )) s to go")"
    done ) &
  progress_pid=$!
  local rc=0
  for j in "${pids[@]}"; do wait "$j" || rc=1; done
  kill "$progress_pid" 2>/dev/null || true
  wait "$progress_pid" 2>/dev/null || true
  progress_pid=''
  local el=$((SECONDS - t0))
  echo "diff-hashes: $p: $n hashes in $el s$( ((el > 0)) && awk -v n="$n" -v e="$el" -v j="$jobs" 'BEGIN { printf " (%.1f H/s over %d processes)", n / e, j }')"
  awk -v jobs="$jobs" -v dir="$work" '
    $1 != last { g++; last = $1 }
    { f = dir "/out." (g % jobs); if ((getline h < f) <= 0) h = "MISSING"; print h }' "$work/pairs.$p" > "$work/wasm.$p"
  return $rc
}

failed=0
for p in "${paths[@]}"; do
  run_path "$p" || { echo "diff-hashes: $p: a wasm process failed"; failed=1; }
done
wait "$native_pid" || { echo "diff-hashes: the native oracle failed"; exit 1; }
lines=$(wc -l < "$work/native")
if [[ $lines -ne $count ]]; then
  echo "diff-hashes: the native oracle gave $lines hashes for $count pairs"; exit 1
fi
if ((corrupt)); then
  awk -v i="$corrupt" 'NR == i { c = substr($0, 1, 1); $0 = (c == "0" ? "1" : "0") substr($0, 2) } 1' \
    "$work/native" > "$work/native.c" && mv "$work/native.c" "$work/native"
  echo "diff-hashes: the native hash of pair $corrupt corrupted on purpose (--corrupt)"
fi

if [[ $oracle == lib && -x $cli ]]; then
  for line in 1 2 3; do
    ((line <= count)) || break
    read -r k i < <(sed -n "${line}p" "$work/pairs")
    c=$("$cli" hash --key-hex "$k" --input-hex "${i:-}")
    if [[ $c != "$(sed -n "${line}p" "$work/native")" ]]; then
      failed=1
      echo "MISMATCH pair $line: $cli hash=$c, the lib oracle=$(sed -n "${line}p" "$work/native")"
    fi
  done
  echo "diff-hashes: the first pairs' native hashes checked against $cli hash too"
fi

for p in "${paths[@]}"; do
  # native hashes of this path's pairs, in its order
  awk 'NR == FNR { h[FNR] = $0; next } { print h[$1] }' "$work/native" "$work/lines.$p" > "$work/native.$p"
  n=$(wc -l < "$work/lines.$p")
  mismatch=0
  while read -r line nh wh; do
    if [[ $nh != "$wh" ]]; then
      mismatch=$((mismatch + 1))
      ((mismatch <= 5)) && echo "MISMATCH $p pair $line ($(sed -n "${line}p" "$work/pairs" | cut -c1-80)...): native=$nh wasm=$wh"
    fi
  done < <(paste -d' ' "$work/lines.$p" "$work/native.$p" "$work/wasm.$p")
  if ((mismatch)); then
    echo "diff-hashes: $p: $mismatch of $n hashes differ"; failed=1
  else
    echo "diff-hashes: $p: all $n wasm hashes equal the native ones"
  fi
done
exit $failed
