#!/usr/bin/env bash
# `cmake --install` puts the CLI, the systemd unit and the docs where the README says,
# and the installed binary runs. usage: install.sh CONSENTMINER VECTORS_DIR
set -uo pipefail
cli="$1"; build="$(dirname "$cli")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
if ! cmake --install "$build" --prefix "$tmp/usr" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"; echo "0 passed, 1 failed"; exit 1
fi
unit="$tmp/usr/lib/systemd/system/consentminer-gateway.service"
check "the binary is installed and runs" '"$tmp/usr/bin/consentminer" hash --key-text "test key 000" --input-text "This is a test" | grep -q 639183aae1bf4c9a35884cb46b09cad9175f04efd7684e7262a0ac1c2f0b4e3f'
check "the systemd unit is installed" '[[ -f $unit ]]'
check "the unit runs the binary from the configured prefix" 'grep -qE "^ExecStart=/.*/bin/consentminer gateway \\\$GATEWAY_ARGS$" "$unit"'
check "the unit reloads with SIGHUP" 'grep -q "^ExecReload=/bin/kill -HUP \$MAINPID" "$unit"'
check "the unit raises the open-files limit" 'grep -q "^LimitNOFILE=" "$unit"'
check "the unit may bind port 443 without root" 'grep -q "^AmbientCapabilities=CAP_NET_BIND_SERVICE" "$unit"'
check "the unit runs as a user of its own" 'grep -q "^DynamicUser=yes" "$unit"'
check "no placeholder left in the unit" '! grep -q "@" "$unit"'
check "the docs and the licence are installed" '[[ -f $tmp/usr/share/doc/consentminer/LICENSE && -f $tmp/usr/share/doc/consentminer/design.md && -f $tmp/usr/share/doc/consentminer/gateway.env.example && -f $tmp/usr/share/doc/consentminer/nginx-consentminer.conf ]]'
# systemd's own checker: every directive parses and the binary runs. (This machine may not
# run systemd as PID 1; `verify` needs only the unit.) The copy points ExecStart at the
# binary just installed, since the unit names the configured prefix.
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/verify"
  sed "s|^ExecStart=[^ ]*/bin/consentminer |ExecStart=$tmp/usr/bin/consentminer |" "$unit" > "$tmp/verify/consentminer-gateway.service"
  check "systemd-analyze verify finds nothing to say about the unit" \
    'out=$(systemd-analyze verify "$tmp/verify/consentminer-gateway.service" 2>&1) && [[ -z $out ]] || { echo "$out"; false; }'
fi
if command -v node >/dev/null; then
  check "the installed audit runs: --help" '"$tmp/usr/bin/consentminer" audit --help | grep -q "consentminer audit"'
  check "the installed audit names the npm packages it lacks" \
    'out=$("$tmp/usr/bin/consentminer" audit http://127.0.0.1:9/ --seconds 1 2>&1); [[ $? == 2 && $out == *"needs the npm packages playwright-core and ws"* ]]'
fi
echo "$pass passed, $fail failed"
((fail == 0))
