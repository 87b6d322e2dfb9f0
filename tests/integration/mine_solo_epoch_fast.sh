#!/usr/bin/env bash
# `consentminer mine --mode fast` solo across a RandomX seed change (issue 18): one mining
# thread, the 2 GiB dataset built on every CPU whatever the mining thread count, and at
# the seed change (block 13 with SEEDHASH_EPOCH_BLOCKS=8, SEEDHASH_EPOCH_LAG=4, as in
# mine_solo_epoch.sh) hashing goes on in light mode while the dataset is rebuilt. Every
# block submitted must be accepted, before and after the change.
# usage: mine_solo_epoch_fast.sh CONSENTMINER
set -u
CLI=$(realpath "$1")
. "$(dirname "$0")/monerod_regtest.bash"

CPUS=$(nproc)
start_monerod 60 SEEDHASH_EPOCH_BLOCKS=8 SEEDHASH_EPOCH_LAG=4
GAIN=$((15 - START_HEIGHT))
mine_until "$GAIN" 280 --mode fast -t 1 --status-interval 10
check_blocks "$GAIN"
grep -q "mining with 1 thread in fast mode" "$TMP/miner.log" ||
    { cat "$TMP/miner.log"; fail "the miner did not mine in fast mode"; }
grep -q "initialising RandomX dataset on $CPUS thread" "$TMP/miner.log" ||
    { cat "$TMP/miner.log"; fail "the dataset was not built on all $CPUS CPUs"; }
grep -q "switching epoch" "$TMP/miner.log" || fail "the miner never saw a seed change"
grep -q "new seed: hashing in light mode while the dataset rebuilds" "$TMP/miner.log" ||
    { cat "$TMP/miner.log"; fail "no light-mode hashing while the dataset was rebuilt"; }
awk '/switching epoch/ {seen=1} seen && /block accepted at height/ {n++} END {exit !(n > 0)}' \
    "$TMP/miner.log" || fail "no block accepted after the seed change"
echo "PASS: $((END_HEIGHT - START_HEIGHT)) blocks in fast mode across a seed change, all accepted;" \
    "dataset built on $CPUS threads for 1 mining thread"
