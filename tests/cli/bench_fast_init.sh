#!/usr/bin/env bash
# Fast mode (issue 18): the dataset is built on every CPU whatever the number of mining
# threads, and hashing from it gives the hashes light mode gives. One mining thread, so
# the report must say the dataset took nproc threads; fixed work of 3 hashes, whose
# checksum must equal the XOR of 3 plain `consentminer hash` calls (light mode: an
# independent path through the cache, not the dataset). Needs about 2.4 GiB; skips (77)
# with less available.
# usage: bench_fast_init.sh CONSENTMINER VECTORS_DIR
set -u
cli="$1"
avail_kib=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo)
if ((avail_kib < 3 * 1024 * 1024)); then
  echo "SKIP: fast mode needs about 2.4 GiB; $((avail_kib / 1024)) MiB available"; exit 77
fi
pass=0; fail=0
check() { # name expected actual
  if [[ "$2" == "$3" ]]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
field() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k]
print(v)' "$1"; }

out=$("$cli" bench --mode fast --threads 1 --hashes 3 --json 2>/dev/null); rc=$?
check "status" 0 "$rc"
check "mode" fast "$(field mode <<<"$out")"
check "mining threads" 1 "$(field threads <<<"$out")"
check "dataset built on every CPU" "$(nproc)" "$(field init_threads <<<"$out")"
if [[ "$(uname -m)" == x86_64 ]]; then
  check "dataset built by the batched code" batched "$(field dataset_init <<<"$out")"
fi
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if 0 < r["dataset_seconds"] <= r["init_seconds"] else 1)' "$out"
check "dataset seconds within init seconds" 0 $?
key=$(field work.key <<<"$out"); blob=$(field work.blob <<<"$out"); off=$(field work.nonce_offset <<<"$out")
hashes=()
for i in 0 1 2; do
  hashes+=("$("$cli" hash --key-hex "$key" --input-hex "${blob:0:$((2 * off))}0${i}000000${blob:$((2 * off + 8))}")")
done
want=$(python3 -c 'import sys; x=0
for h in sys.argv[1:]: x ^= int(h, 16)
print("%064x" % x)' "${hashes[@]}")
check "fast checksum = XOR of 3 light plain hashes" "$want" "$(field work.checksum <<<"$out")"

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
