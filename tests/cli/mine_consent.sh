#!/usr/bin/env bash
# `consentminer mine` asks before it hashes: without a terminal and without --yes it must
# refuse (after saying what would run), a "no" on the terminal must refuse, and --help
# must explain every option. Nothing here reaches a pool: the address is a closed port.
# usage: mine_consent.sh CONSENTMINER VECTORS_DIR
set -u
CLI=$1
W=44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A
fail() { echo "FAIL: $*"; exit 1; }

out=$("$CLI" mine -o 127.0.0.1:9 -u "$W" --mode light -t 1 </dev/null 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "no terminal, no --yes: exit $rc, wanted 1"
for word in "Monero" "RandomX" "expected CPU load" "rewards to" "Ctrl-C" "pass --yes"; do
    grep -q -- "$word" <<<"$out" || fail "disclosure lacks '$word': $out"
done
grep -q "mining with" <<<"$out" && fail "it started mining without consent"
grep -q "builds the dataset" <<<"$out" && fail "light mode disclosed a dataset build: $out"

# Fast mode builds the dataset on every CPU by default (issue 18): the disclosure says so,
# with that load, before anyone agrees.
out=$("$CLI" mine -o 127.0.0.1:9 -u "$W" --mode fast -t 1 </dev/null 2>&1)
n=$(nproc)
grep -q "builds the dataset on $n thread" <<<"$out" || fail "fast mode does not disclose the dataset build on $n threads: $out"
grep -q "CPU load up to $((100 * n))%" <<<"$out" || fail "fast mode does not disclose the build's CPU load: $out"
out=$("$CLI" mine -o 127.0.0.1:9 -u "$W" --mode fast -t 1 --init-threads 1 </dev/null 2>&1)
grep -q "builds the dataset on 1 thread:" <<<"$out" || fail "--init-threads 1 not disclosed: $out"
err=$("$CLI" mine -o 127.0.0.1:9 -u "$W" --init-threads 0 --yes 2>&1)
[ $? -eq 2 ] || fail "--init-threads 0 must be a usage error"
grep -q -- "--init-threads is '0'" <<<"$err" || fail "--init-threads 0 message does not name it: $err"

# A terminal that answers "n" (script(1) gives it a pseudo-terminal).
if command -v script >/dev/null; then
    out=$(printf 'n\n' | script -qec "$CLI mine -o 127.0.0.1:9 -u $W --mode light -t 1" /dev/null 2>&1)
    grep -q "Start mining? \[y/N\]" <<<"$out" || fail "no question on a terminal: $out"
    grep -q "Not starting" <<<"$out" || fail "a 'n' did not refuse: $out"
    grep -q "mining with" <<<"$out" && fail "it started mining after 'n'"
fi

help=$("$CLI" mine --help) || fail "--help failed"
for opt in -o -u -p --tls --tls-fingerprint -t --throttle --mode --daemon --wallet --yes \
    --status-interval --keepalive --failback --no-large-pages --init-threads; do
    grep -qE -- "$opt[ ,]" <<<"$help" || fail "--help does not explain $opt"
done
"$CLI" mine -o 127.0.0.1:9 --daemon http://127.0.0.1:9 --wallet "$W" --yes >/dev/null 2>&1
[ $? -eq 2 ] || fail "pool and daemon together must be a usage error"
"$CLI" mine -o 127.0.0.1:9 -u "$W" --tls-fingerprint abcd --yes --mode light -t 1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a malformed fingerprint must be a usage error"
echo "PASS"
