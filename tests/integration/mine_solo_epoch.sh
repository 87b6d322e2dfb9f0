#!/usr/bin/env bash
# `consentminer mine` solo across a RandomX seed change: monerod honours
# SEEDHASH_EPOCH_BLOCKS/SEEDHASH_EPOCH_LAG, so with 8 and 4 the seed first changes for
# block 13 (8 + 4 + 1). The miner must switch seeds and keep every block accepted.
# usage: mine_solo_epoch.sh CONSENTMINER
set -u
CLI=$(realpath "$1")
. "$(dirname "$0")/monerod_regtest.bash"

# A low difficulty keeps 14+ blocks within a minute or two of light-mode hashing.
start_monerod 60 SEEDHASH_EPOCH_BLOCKS=8 SEEDHASH_EPOCH_LAG=4
GAIN=$((15 - START_HEIGHT))
mine_until "$GAIN" 240 --mode light -t 2 --status-interval 10
check_blocks "$GAIN"
grep -q "switching epoch" "$TMP/miner.log" || fail "the miner never saw a seed change"
awk '/switching epoch/ {seen=1} seen && /block accepted at height/ {n++} END {exit !(n > 0)}' \
    "$TMP/miner.log" || fail "no block accepted after the seed change"
echo "PASS: $((END_HEIGHT - START_HEIGHT)) blocks across a seed change, all accepted"
