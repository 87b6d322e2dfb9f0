#!/usr/bin/env bash
# `consentminer bench --hashes N` (issue 18): fixed work whose checksum anyone can check.
# The checksum must be the XOR of the hashes `consentminer hash` (light mode, one plain
# hash per call, no mining loop) gives for the same key and the blob with nonces 0..N-1,
# whatever the thread count and run after run; the report carries what issue 18 lists;
# bad options fail naming the option.
# usage: bench_fixed_work.sh CONSENTMINER VECTORS_DIR
set -u
cli="$1"; vectors="$2"
pass=0; fail=0
check() { # name expected actual
  if [[ "$2" == "$3" ]]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
field() { python3 -c 'import json,sys; v=json.load(sys.stdin); exec("for k in sys.argv[1].split(\".\"): v=v[int(k)] if isinstance(v,list) else v[k]"); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1"; }

# The checksum by an independent path: N separate `consentminer hash` calls.
independent() { # key blob offset n
  local key=$1 blob=$2 off=$3 n=$4 i hashes=()
  for ((i = 0; i < n; i++)); do
    local nonce; nonce=$(printf '%02x%02x%02x%02x' $((i & 255)) $((i >> 8 & 255)) $((i >> 16 & 255)) $((i >> 24 & 255)))
    hashes+=("$("$cli" hash --key-hex "$key" --input-hex "${blob:0:$((2 * off))}$nonce${blob:$((2 * off + 8))}")")
  done
  python3 -c 'import sys; x=0
for h in sys.argv[1:]: x ^= int(h, 16)
print("%064x" % x)' "${hashes[@]}"
}

# The fixed work itself: changing it would make every published checksum meaningless.
want_key=5a5b58595e5f5c5d52535051565754554a4b48494e4f4c4d4243404146474445
want_blob=1010a0b5d3a6060e33587da2c7ec11365b80a5caef14395e83a8cdf2173c6186abd0f51a3f6489aed3f81d42678cb1d6fb20456a8fb4d9fe23486d92b7dc01264b7095badf04294e7398bde2

out2=$("$cli" bench --mode light --threads 2 --hashes 5 --repeat 2 --json 2>/dev/null); rc=$?
check "light 2 threads status" 0 "$rc"
key=$(field work.key <<<"$out2"); blob=$(field work.blob <<<"$out2"); off=$(field work.nonce_offset <<<"$out2")
check "key of the fixed work" "$want_key" "$key"
check "blob of the fixed work" "$want_blob" "$blob"
check "nonce offset" 39 "$off"
want=$(independent "$key" "$blob" "$off" 5)
check "checksum (2 threads) = XOR of 5 plain hashes" "$want" "$(field work.checksum <<<"$out2")"
check "run 1 checksum" "$want" "$(field runs.0.checksum <<<"$out2")"
check "run 2 checksum" "$want" "$(field runs.1.checksum <<<"$out2")"
check "hashes over 2 runs" 10 "$(field hashes <<<"$out2")"
check "repeat" 2 "$(field repeat <<<"$out2")"
check "per-thread entries" 2 "$(field runs.0.threads <<<"$out2" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check "per-thread hashes add up" 5 "$(field runs.1.threads <<<"$out2" | python3 -c 'import json,sys; print(sum(t["hashes"] for t in json.load(sys.stdin)))')"
check "median within min..max" True "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["hashrate_min"] <= r["hashrate"] <= r["hashrate_max"] and r["spread_pct"] >= 0)' "$out2")"
project_version=$(sed -n 's/^project(consentminer VERSION \([0-9.]*\).*/\1/p' "$vectors/../../CMakeLists.txt")
check "version is CMake's project version" "$project_version" "$(field version <<<"$out2")"
check "--version agrees" "consentminer $project_version" "$("$cli" --version)"
[[ "$(field timestamp <<<"$out2")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]; check "timestamp is ISO 8601 UTC" 0 $?
model=$(field cpu.model <<<"$out2"); [[ -n "$model" ]]; check "cpu model present" 0 $?
grep -q "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" <<<"$model"; check "cpu model is /proc/cpuinfo's" 0 $?
if grep -qw aes /proc/cpuinfo; then
  field cpu.flags <<<"$out2" | grep -q '"aes"'; check "cpu flags list aes" 0 $?
fi
check "huge pages state named" 1 "$(field huge_pages <<<"$out2" | grep -cE '^(reserved|transparent|none)$')"
check "thp mode reported" "$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)" "$(field huge_page_detail.thp_mode <<<"$out2")"

# Same work on one thread: the same checksum; the text report prints it too.
out1=$("$cli" bench --mode light --threads 1 --hashes 5 --json 2>/dev/null)
check "checksum (1 thread)" "$want" "$(field work.checksum <<<"$out1")"
text=$("$cli" bench --mode light --threads 1 --hashes 3 2>/dev/null)
want3=$(independent "$key" "$blob" "$off" 3)
check "text checksum of 3" "checksum of 3 hashes: $want3" "$(grep '^checksum' <<<"$text")"

# Bad options: status 2 and the option named.
bad() { # name expected-word args...
  local name=$1 word=$2; shift 2
  local err; err=$("$cli" bench "$@" 2>&1 >/dev/null); local rc=$?
  check "$name status" 2 "$rc"
  [[ "$err" == *"$word"* ]] || { fail=$((fail+1)); echo "FAIL $name message lacks '$word': $err"; }
}
bad "--hashes 0" "--hashes is '0'" --hashes 0
bad "--hashes x" "--hashes is 'x'" --hashes x
bad "--hashes missing" "--hashes needs a value" --hashes
bad "--repeat 0" "--repeat is '0'" --repeat 0
bad "--init-threads 0" "--init-threads is '0'" --init-threads 0
bad "--hashes with --seconds" "--hashes and --seconds" --hashes 3 --seconds 2
"$cli" bench --help | grep -q -- "--hashes N"; check "help names --hashes" 0 $?
"$cli" bench --help | grep -q -- "--repeat K"; check "help names --repeat" 0 $?
"$cli" bench --help | grep -q -- "--init-threads N"; check "help names --init-threads" 0 $?

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
