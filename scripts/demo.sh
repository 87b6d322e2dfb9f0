#!/usr/bin/env bash
# The main job: a visitor consents on a demo page and mines real blocks on a local chain.
#
# Builds the native and wasm parts and the element's dist/, makes a throwaway regtest
# wallet address, starts `monerod --regtest --offline` with a low fixed difficulty, the
# gateway on http://127.0.0.1:8081 (the consent frame at /frame/, /consent/*, /ws, /stats)
# and the demo site on http://127.0.0.1:8080 (demo/serve.mjs: the page and the host
# element). Two ports are two origins: the page's scripts cannot reach into the frame, as
# on a real site with its gateway on another host (docs/design.md). Ctrl-C (or SIGTERM)
# stops everything it started. Everything listens on 127.0.0.1 only.
#
# Environment: CM_DEMO_PORT (8080, the page), CM_DEMO_GATEWAY_PORT (8081),
# CM_DEMO_RPC_PORT (18481), CM_DEMO_P2P_PORT (18480),
# CM_DEMO_DIFFICULTY (100: a browser on 2 threads finds a block in about half a minute),
# CM_DEMO_DIR (build/demo: wallet, chain and site; the chain starts afresh each run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
port=${CM_DEMO_PORT:-8080}
gw_port=${CM_DEMO_GATEWAY_PORT:-8081}
rpc_port=${CM_DEMO_RPC_PORT:-18481}
p2p_port=${CM_DEMO_P2P_PORT:-18480}
difficulty=${CM_DEMO_DIFFICULTY:-100}
dir=${CM_DEMO_DIR:-$root/build/demo}
cli=$root/build/native/consentminer
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

say() { echo "demo: $*"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$gw_port" "$rpc_port" "$p2p_port"; do
  if port_busy "$p"; then
    say "port $p on 127.0.0.1 is already in use; set CM_DEMO_PORT, CM_DEMO_GATEWAY_PORT, CM_DEMO_RPC_PORT or CM_DEMO_P2P_PORT"
    exit 1
  fi
done

say "building the native CLI and the wasm runtime (first time: a few minutes)"
bash scripts/build.sh native >/dev/null
bash scripts/build.sh wasm >/dev/null
node consent-ui/build.mjs --out "$dir/site" >/dev/null
cp demo/index.html demo/demo.js demo/demo.css demo/favicon.svg "$dir/site/"

mkdir -p "$dir"
if [[ ! -s $dir/address.txt ]]; then
  say "creating a throwaway wallet address for the local chain"
  rm -rf "$dir/wallet"; mkdir -p "$dir/wallet"
  # In its own folder: monero-wallet-cli writes its log into the current directory.
  (cd "$dir/wallet" && monero-wallet-cli --generate-new-wallet "$dir/wallet/demo" --password "" \
    --mnemonic-language English --offline --command address </dev/null >"$dir/wallet/create.log" 2>&1) || true
  grep -oE '\b4[0-9A-Za-z]{94}\b' "$dir/wallet/create.log" | head -1 >"$dir/address.txt"
  if [[ ! -s $dir/address.txt ]]; then
    say "monero-wallet-cli did not print an address; see $dir/wallet/create.log"
    exit 1
  fi
fi
address=$(cat "$dir/address.txt")

pids=()
cleanup() {
  trap "" INT TERM   # a second Ctrl-C must not cut the clean-up short
  trap - EXIT
  if ((${#pids[@]})); then
    say "stopping (${#pids[@]} processes)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$dir/chain"; mkdir -p "$dir/chain"
monerod --regtest --offline --fixed-difficulty "$difficulty" --data-dir "$dir/chain" \
  --rpc-bind-ip 127.0.0.1 --rpc-bind-port "$rpc_port" --p2p-bind-ip 127.0.0.1 \
  --p2p-bind-port "$p2p_port" --no-zmq --non-interactive --no-igd \
  --disable-dns-checkpoints --check-updates disabled --log-level 0 >"$dir/monerod.log" 2>&1 &
pids+=($!)
say "monerod regtest starting (difficulty $difficulty, RPC 127.0.0.1:$rpc_port)"
for i in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$rpc_port/json_rpc" -d '{"jsonrpc":"2.0","id":"0","method":"get_info"}' \
       -H 'Content-Type: application/json' >/dev/null 2>&1; then break; fi
  kill -0 "${pids[0]}" 2>/dev/null || { say "monerod exited; see $dir/monerod.log"; exit 1; }
  sleep 0.5
done

# The gateway serves only the consent frame; the sites that may embed it are --origin.
"$cli" gateway --listen "127.0.0.1:$gw_port" --daemon "http://127.0.0.1:$rpc_port" \
  --wallet "$address" --frame-dir "$dir/site/frame" \
  --origin "http://127.0.0.1:$port" --origin "http://localhost:$port" \
  --share-interval 10 >"$dir/gateway.log" 2>&1 &
pids+=($!)
for i in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$gw_port/stats" >/dev/null 2>&1 && break
  kill -0 "${pids[1]}" 2>/dev/null || { say "the gateway exited; see $dir/gateway.log"; exit 1; }
  sleep 0.25
done
node demo/serve.mjs --dir "$dir/site" --listen "127.0.0.1:$port" --gateway "http://127.0.0.1:$gw_port" \
  >"$dir/site.log" 2>&1 &
pids+=($!)
for i in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  kill -0 "${pids[2]}" 2>/dev/null || { say "the demo site server exited; see $dir/site.log"; exit 1; }
  sleep 0.25
done

cat <<MSG

  consentminer demo is running.

  Open  http://127.0.0.1:$port/  in a browser on this machine.
  The page asks before it mines. Say yes to mine with 2 threads; the panel shows
  your CPU usage, hash rate, a throttle and a stop button. Blocks your browser finds
  are accepted by the local regtest chain (reward to a throwaway address: $address).

  The consent form comes from the gateway, http://127.0.0.1:$gw_port/frame/ (another
  origin than the page). Gateway statistics: http://127.0.0.1:$gw_port/stats
  Logs: $dir/*.log
  Press Ctrl-C to stop everything this started.

MSG
wait -n "${pids[@]}" || true
say "a process ended by itself; see $dir/monerod.log, $dir/gateway.log and $dir/site.log"
exit 1
