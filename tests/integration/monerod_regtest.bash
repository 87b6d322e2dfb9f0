# Shared by tests/integration/*.sh: a throwaway monerod in regtest on loopback ports, and
# `consentminer mine` solo-mining against it. Source it; call start_monerod, then
# mine_until, then check the log. Everything started is killed on exit (trap).
# Safe under `set -e` (bench/mine-vs-bench.sh sources it too).

# The Monero project's donation address: a valid mainnet address, which regtest accepts
# (docs/design.md, Monero test facts), so no wallet has to be generated.
WALLET=44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A

TMP=$(mktemp -d /tmp/cm-integration.XXXXXX)
MONEROD_PID=
MINER_PID=

cleanup() {
    [ -n "$MINER_PID" ] && kill -9 "$MINER_PID" 2>/dev/null
    [ -n "$MONEROD_PID" ] && kill -9 "$MONEROD_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*"
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rpc_height() {
    curl -s --max-time 5 -X POST "http://127.0.0.1:$RPC_PORT/get_height" -d '{}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || true
}

# start_monerod DIFFICULTY [ENV=VALUE ...]
start_monerod() {
    local difficulty=$1
    shift
    command -v monerod >/dev/null || { echo "SKIP: monerod not installed"; exit 77; }
    RPC_PORT=$(free_port)
    P2P_PORT=$(free_port)
    env "$@" monerod --regtest --offline --fixed-difficulty "$difficulty" --data-dir "$TMP/chain" \
        --rpc-bind-ip 127.0.0.1 --rpc-bind-port "$RPC_PORT" --p2p-bind-ip 127.0.0.1 \
        --p2p-bind-port "$P2P_PORT" --no-zmq --non-interactive --no-igd \
        --disable-dns-checkpoints --check-updates disabled --log-level 0 \
        >"$TMP/monerod.log" 2>&1 &
    MONEROD_PID=$!
    for _ in $(seq 1 120); do
        START_HEIGHT=$(rpc_height)
        [ -n "$START_HEIGHT" ] && { echo "monerod regtest on 127.0.0.1:$RPC_PORT at height $START_HEIGHT"; return 0; }
        kill -0 "$MONEROD_PID" 2>/dev/null || { tail -20 "$TMP/monerod.log"; fail "monerod exited"; }
        sleep 0.5
    done
    tail -20 "$TMP/monerod.log"
    fail "monerod did not answer RPC within 60 s"
}

# mine_until HEIGHT_GAIN TIMEOUT_S MINER_ARGS...: mines until the chain grew by
# HEIGHT_GAIN blocks, then stops the miner with SIGINT as a person would.
mine_until() {
    local gain=$1 timeout=$2
    shift 2
    "$CLI" mine --daemon "http://127.0.0.1:$RPC_PORT" --wallet "$WALLET" --yes "$@" \
        >"$TMP/miner.log" 2>&1 &
    MINER_PID=$!
    local t0=$SECONDS
    END_HEIGHT=$START_HEIGHT
    while [ $((SECONDS - t0)) -lt "$timeout" ]; do
        END_HEIGHT=$(rpc_height)
        [ -n "$END_HEIGHT" ] || END_HEIGHT=$START_HEIGHT
        [ "$END_HEIGHT" -ge $((START_HEIGHT + gain)) ] && break
        kill -0 "$MINER_PID" 2>/dev/null || break
        sleep 1
    done
    ELAPSED=$((SECONDS - t0))
    # monerod counts a block before the miner has read its reply to submit_block: give the
    # miner a moment to log the acceptance of every block the chain grew by, so that
    # check_blocks compares settled numbers (seen in CI: SIGINT landed in between, and the
    # accepted block was logged as stale).
    local h
    for _ in $(seq 1 40); do
        h=$(rpc_height)
        [ -n "$h" ] || h=$START_HEIGHT
        [ "$(grep -c "block accepted at height" "$TMP/miner.log")" -ge $((h - START_HEIGHT)) ] && break
        kill -0 "$MINER_PID" 2>/dev/null || break
        sleep 0.25
    done
    kill -INT "$MINER_PID" 2>/dev/null
    local rc=0
    for _ in $(seq 1 40); do
        kill -0 "$MINER_PID" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$MINER_PID" 2>/dev/null; then
        cat "$TMP/miner.log"
        fail "miner did not stop within 10 s of SIGINT"
    fi
    wait "$MINER_PID" || rc=$?
    MINER_PID=
    MINER_RC=$rc
    END_HEIGHT=$(rpc_height)
    echo "height $START_HEIGHT -> $END_HEIGHT in ${ELAPSED} s; miner exit status $MINER_RC"
}

# Checks common to every run: clean exit, chain grew, every submitted block accepted.
check_blocks() {
    local gain=$1
    local accepted rejected
    accepted=$(grep -c "block accepted at height" "$TMP/miner.log")
    rejected=$(grep -c "block rejected" "$TMP/miner.log")
    grep -E "block (accepted|rejected|stale)|new job|seed|final:|stopped" "$TMP/miner.log" | tail -60
    [ "$MINER_RC" -eq 0 ] || { tail -40 "$TMP/miner.log"; fail "miner exit status $MINER_RC"; }
    grep -q "final:" "$TMP/miner.log" || fail "no final statistics after SIGINT"
    if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$TMP/miner.log"; then
        fail "sanitizer report"
    fi
    [ "$END_HEIGHT" -ge $((START_HEIGHT + gain)) ] ||
        fail "chain grew by $((END_HEIGHT - START_HEIGHT)), wanted >= $gain"
    [ "$rejected" -eq 0 ] || fail "$rejected block(s) rejected by monerod"
    # Only this miner mines this chain: every block it grew by is one it submitted and
    # monerod accepted, and every accepted one is in the chain.
    [ "$accepted" -eq $((END_HEIGHT - START_HEIGHT)) ] ||
        fail "miner reports $accepted accepted blocks, chain grew by $((END_HEIGHT - START_HEIGHT))"
}
