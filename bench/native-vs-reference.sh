#!/usr/bin/env bash
# consentminer bench against RandomX's own reference benchmark, in one invocation.
#
# Builds `randomx-benchmark` from the same Debian source package (third_party/randomx,
# fetched and sha256-checked by scripts/fetch-randomx-source.sh), then runs it and
# `consentminer bench` alternately, ROUNDS times per row, and prints each median and the
# ratio consentminer/reference. Rows: light 1 thread; fast 1 thread; fast 2 threads;
# each of ours with transparent huge pages (the default) and with none (the reference
# uses ordinary pages unless given --largePages, which needs reserved pages).
#
# usage: bash bench/native-vs-reference.sh [--rounds R] [--seconds S] [--rows "fast 2,light 1"]
# Writes bench/results/native-vs-reference.json.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3; seconds=20; rows_arg="light 1,fast 1,fast 2"
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2;;
    --seconds) seconds="$2"; shift 2;;
    --rows) rows_arg="$2"; shift 2;;
    -h|--help) sed -n '2,14p' "$0"; exit 0;;
    *) echo "native-vs-reference: unknown option '$1'" >&2; exit 2;;
  esac
done

bash scripts/fetch-randomx-source.sh >/dev/null
bash scripts/build.sh native >/dev/null
ref_build=build/randomx-reference
if [[ ! -x $ref_build/randomx-benchmark ]]; then
  echo "building randomx-benchmark from third_party/randomx ..." >&2
  cmake -S third_party/randomx -B "$ref_build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ref_build" --target randomx-benchmark -j "$(nproc)" >/dev/null
fi
ref="$ref_build/randomx-benchmark"
cm=build/native/consentminer

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# Reference run: prints hashes per second for the row.
run_ref() { # mode threads
  local mode=$1 threads=$2 nonces out
  if [[ $mode == light ]]; then
    nonces=$((35 * seconds * threads))
    out=$("$ref" --verify --auto --threads "$threads" --nonces "$nonces")
    echo "$out" | awk '/Performance:/ {printf "%.3f\n", 1000/$2}'
  else
    nonces=$((250 * seconds * threads))
    out=$("$ref" --mine --auto --init "$(nproc)" --threads "$threads" --nonces "$nonces")
    echo "$out" | awk '/Performance:/ {print $2}'
  fi
}

run_cm() { # mode threads extra-flag
  "$cm" bench --mode "$1" --threads "$2" --seconds "$seconds" --json ${3:-} 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["hashrate"])'
}

IFS=, read -r -a rows <<<"$rows_arg"
json="["
printf '%-16s %-12s %12s %12s %8s\n' row variant reference consentminer ratio
for row in "${rows[@]}"; do
  set -- $row; mode=$1; threads=$2
  ref_v=(); thp_v=(); none_v=()
  for ((r = 1; r <= rounds; r++)); do
    echo "round $r/$rounds: $mode $threads thread(s)" >&2
    ref_v+=("$(run_ref "$mode" "$threads")")
    thp_v+=("$(run_cm "$mode" "$threads")")
    none_v+=("$(run_cm "$mode" "$threads" --no-large-pages)")
  done
  ref_all="${ref_v[*]}"
  ref_m=$(printf '%s\n' "${ref_v[@]}" | median)
  thp_m=$(printf '%s\n' "${thp_v[@]}" | median)
  none_m=$(printf '%s\n' "${none_v[@]}" | median)
  for variant in thp none; do
    if [[ $variant == thp ]]; then v=$thp_m; all="${thp_v[*]}"; else v=$none_m; all="${none_v[*]}"; fi
    ratio=$(awk -v a="$v" -v b="$ref_m" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}')
    printf '%-16s %-12s %12.1f %12.1f %8s\n' "$mode ${threads}t" "$variant" "$ref_m" "$v" "$ratio"
    json+="{\"mode\":\"$mode\",\"threads\":$threads,\"pages\":\"$variant\",\"reference_hs\":$ref_m,\"consentminer_hs\":$v,\"ratio\":$ratio,\"reference_runs\":[${ref_all// /,}],\"consentminer_runs\":[${all// /,}]},"
  done
done
json="${json%,}]"
out=bench/results/native-vs-reference.json
[[ "$rows_arg" != "light 1,fast 1,fast 2" ]] && out=bench/results/native-vs-reference-${rows_arg//[ ,]/-}.json
echo "$json" > "$out"
echo "wrote $out" >&2
