#!/usr/bin/env bash
# A mistyped --wallet stops the gateway and `mine` at start, with the reason; a valid one
# (and, for a pool, one with a worker name after it) gets past the check.
# usage: wallet_check.sh CONSENTMINER VECTORS_DIR
set -uo pipefail
CLI="$1"
GOOD=49UeoKgmn6qhAZ5RKAjBd82ZFpe546QehMmZr66afY3XG5rsGAqjay2TJtLPoTU8VobsP8N9GcLSEUmRPUQFTuyk7UYvZPY
TYPO=49UeoKgmn6qhAZ5RKAjBd82ZFpe546QehMmZr66afY3XG5rsGAqjay2TJtLPoTU8VobsP8N9GcLSEUmRPUQFTuyk7UYvZQY
. "$(dirname "$0")/expect.bash"
expect "gateway refuses a mistyped wallet" 2 "--wallet $TYPO: its checksum does not match" \
  "$CLI" gateway --listen 127.0.0.1:0 --daemon http://127.0.0.1:9 --wallet "$TYPO"
expect "gateway refuses a short wallet" 2 "94 characters; a Monero address has 95" \
  "$CLI" gateway --listen 127.0.0.1:0 --daemon http://127.0.0.1:9 --wallet "${GOOD:0:94}"
expect "gateway checks the address part of a pool login" 2 "--wallet $TYPO: its checksum" \
  "$CLI" gateway --listen 127.0.0.1:0 --pool 127.0.0.1:9 --wallet "$TYPO.rig1"
expect "mine --daemon refuses a mistyped wallet" 2 "--wallet $TYPO: its checksum does not match" \
  "$CLI" mine --daemon http://127.0.0.1:9 --wallet "$TYPO" --yes
expect "mine refuses a pool login that is a mistyped address" 2 "-u $TYPO: its checksum" \
  "$CLI" mine -o 127.0.0.1:9 -u "$TYPO+5000" --yes
# Past the check, these fail later for want of a pool (nothing listens on port 9), not
# because of the address: no "checksum" or "characters" in what they say.
out=$(timeout 5 "$CLI" mine -o 127.0.0.1:9 -u "$GOOD.rig1" --yes -t 1 --mode light 2>&1 </dev/null)
if [[ $out != *checksum* && $out != *"Monero address"* ]]; then pass=$((pass + 1)); echo "ok - a valid address with a worker name passes"
else fail=$((fail + 1)); echo "not ok - a valid address with a worker name passes"; echo "$out" | head -3; fi
out=$(timeout 5 "$CLI" mine -o 127.0.0.1:9 -u someone@example.com --yes -t 1 --mode light 2>&1 </dev/null)
if [[ $out != *checksum* && $out != *"Monero address"* ]]; then pass=$((pass + 1)); echo "ok - a pool login that is no address is left to the pool"
else fail=$((fail + 1)); echo "not ok - a pool login that is no address is left to the pool"; echo "$out" | head -3; fi
echo "$pass passed, $fail failed"
((fail == 0))
