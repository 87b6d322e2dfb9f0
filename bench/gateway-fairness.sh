#!/usr/bin/env bash
# Honest visitors first (issue 13): 50 sockets from 5 loopback addresses (127.0.0.2..6)
# submit forged results to `consentminer gateway` as fast as its limits allow while an
# honest browser on 127.0.0.1 submits real shares; reports the honest shares' answer
# latency (p50, p99; goal p99 < 2 s).
#
# usage: bash bench/gateway-fairness.sh [--attackers N] [--addresses A] [--seconds S] [--difficulty D]
#                                       [--threads T] [--cli PATH] [--before PATH]
# --before PATH runs the same round first against another build (e.g. main's) for a
# before/after pair. Writes bench/results/gateway-fairness.json. Needs node and the native
# build (consentminer and tests/gateway/rx_miner); the pool is the scripted test pool.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node bench/gateway-fairness.mjs "$@"
