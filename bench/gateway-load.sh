#!/usr/bin/env bash
# Load benchmark of `consentminer gateway` on loopback (issue 5): N WebSocket browsers log
# in and hold, some submit shares; reports the largest N held, memory per connection and
# share-verification throughput against native light-mode hashing per core.
#
# usage: bash bench/gateway-load.sh [--clients N] [--hold S] [--submitters K]
#                                   [--verify-seconds S] [--threads T] [--cli PATH]
# Writes bench/results/gateway-load.json. Needs monerod (regtest, started here) and node.
# Each of N browsers is a socket in this process and one in the gateway: the open-file
# limit is raised to the hard limit first (10,000 browsers need ~10,100 in each process).
set -euo pipefail
cd "$(dirname "$0")/.."
hard=$(ulimit -Hn)
ulimit -n "$hard"
echo "gateway-load: RLIMIT_NOFILE raised to $(ulimit -n)"
exec node bench/gateway-load.mjs "$@"
