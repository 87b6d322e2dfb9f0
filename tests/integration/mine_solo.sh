#!/usr/bin/env bash
# `consentminer mine` solo against a real monerod in regtest: the chain must grow by at
# least 3 blocks and every block the miner submitted must be accepted.
# usage: mine_solo.sh CONSENTMINER
set -u
CLI=$(realpath "$1")
. "$(dirname "$0")/monerod_regtest.bash"

# Difficulty 300: a block every ~300 light-mode hashes (docs/design.md: ~34 H/s a thread).
start_monerod 300
mine_until 3 240 --mode light -t 2 --status-interval 10
check_blocks 3
echo "PASS: $((END_HEIGHT - START_HEIGHT)) blocks mined and accepted"
