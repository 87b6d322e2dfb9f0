#!/usr/bin/env bash
# Fast-mode memory initialisation (cache + 2080 MiB dataset), consentminer against RandomX's
# own reference benchmark, in one invocation (issue 18).
#
# For each init thread count, ROUNDS alternating rounds of: the reference
# (`randomx-benchmark --mine --auto --init T`, its "Memory initialized in" figure: cache
# allocation and Argon2, dataset allocation and build), then `consentminer bench --mode
# fast --init-threads T --hashes H` with transparent huge pages (the default) and without
# (--no-large-pages; the reference uses ordinary pages), its init_seconds (the same
# steps). One mining thread each; H hashes only, so the hash rate printed is a side figure.
# Prints medians and the ratio consentminer/reference; writes bench/results/dataset-init.json.
#
# usage: bash bench/dataset-init.sh [--rounds R] [--threads "1 2"] [--hashes H]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3; thread_list="1 2"; hashes=300
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2;;
    --threads) thread_list="$2"; shift 2;;
    --hashes) hashes="$2"; shift 2;;
    -h|--help) sed -n '2,13p' "$0"; exit 0;;
    *) echo "dataset-init: unknown option '$1'" >&2; exit 2;;
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
join() { local IFS=,; echo "$*"; }

json="{\"load_average_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"rows\":["
printf '%-10s %10s %12s %12s %8s %8s\n' init-thr reference cm-thp cm-none thp/ref none/ref
for t in $thread_list; do
  ref_v=(); thp_v=(); none_v=(); ref_hs=(); thp_hs=(); thp_ds=()
  for ((r = 1; r <= rounds; r++)); do
    echo "round $r/$rounds: init on $t thread(s), load $(cut -d' ' -f1 /proc/loadavg)" >&2
    out=$("$ref" --mine --auto --init "$t" --threads 1 --nonces "$hashes")
    ref_v+=("$(awk '/Memory initialized in/ {print $4}' <<<"$out")")
    ref_hs+=("$(awk '/Performance:/ {print $2}' <<<"$out")")
    out=$("$cm" bench --mode fast --threads 1 --init-threads "$t" --hashes "$hashes" --json 2>/dev/null)
    read -r i d h b < <(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["init_seconds"], r["dataset_seconds"], r["hashrate"], r["dataset_init"])' "$out")
    if [[ $b != batched ]]; then
      echo "dataset-init: consentminer built the dataset with RandomX's own code ($b), so this would compare RandomX with itself; build with third_party/randomx (scripts/fetch-randomx-source.sh)" >&2
      exit 1
    fi
    thp_v+=("$i"); thp_ds+=("$d"); thp_hs+=("$h")
    out=$("$cm" bench --mode fast --threads 1 --init-threads "$t" --hashes "$hashes" --json --no-large-pages 2>/dev/null)
    none_v+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["init_seconds"])' "$out")")
  done
  rm=$(printf '%s\n' "${ref_v[@]}" | median)
  tm=$(printf '%s\n' "${thp_v[@]}" | median)
  nm=$(printf '%s\n' "${none_v[@]}" | median)
  rt=$(awk -v a="$tm" -v b="$rm" 'BEGIN {printf "%.3f", a / b}')
  rn=$(awk -v a="$nm" -v b="$rm" 'BEGIN {printf "%.3f", a / b}')
  printf '%-10s %10.2f %12.2f %12.2f %8s %8s\n' "$t" "$rm" "$tm" "$nm" "$rt" "$rn"
  json+="{\"init_threads\":$t,\"reference_s\":$rm,\"consentminer_thp_s\":$tm,\"consentminer_none_s\":$nm,"
  json+="\"ratio_thp\":$rt,\"ratio_none\":$rn,\"reference_runs\":[$(join "${ref_v[@]}")],"
  json+="\"consentminer_thp_runs\":[$(join "${thp_v[@]}")],\"consentminer_none_runs\":[$(join "${none_v[@]}")],"
  json+="\"consentminer_thp_dataset_runs\":[$(join "${thp_ds[@]}")],"
  json+="\"reference_hs_runs\":[$(join "${ref_hs[@]}")],\"consentminer_thp_hs_runs\":[$(join "${thp_hs[@]}")]},"
done
json="${json%,}],\"load_average_end\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"rounds\":$rounds,\"hashes\":$hashes,\"date\":\"$(date -u +%FT%TZ)\"}"
out=bench/results/dataset-init.json
echo "$json" | python3 -m json.tool > "$out"
echo "wrote $out" >&2
