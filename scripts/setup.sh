#!/usr/bin/env bash
# consentminer — installs everything the project needs on Debian bookworm, as root.
# Idempotent: packages already present are skipped by apt, the RandomX source is
# fetched once and re-verified, npm packages are installed from package-lock.json.
#
#   bash scripts/setup.sh            everything: builds, tests, browsers, the demo
#   bash scripts/setup.sh --gateway  only what building and running the gateway needs
#                                    (no browsers, clang, Emscripten, monerod or npm);
#                                    then `cmake --preset gateway && cmake --build
#                                    --preset gateway`, and copy the element's dist/
#                                    from a machine that built it
set -euo pipefail
cd "$(dirname "$0")/.."
mode=all
case "${1:-}" in
  "") ;;
  --gateway) mode=gateway ;;
  *) echo "setup: unknown option '$1'; expected nothing or --gateway" >&2; exit 2 ;;
esac

# What the native build (the CLI and the gateway) needs, and nothing else.
GATEWAY_PACKAGES=(
  build-essential cmake pkg-config ca-certificates
  librandomx-dev                        # RandomX for the native build
  libuv1-dev libmbedtls-dev libwslay-dev libhttp-parser-dev libjansson-dev
  libcrypto++-dev                       # Keccak-256 for Monero address checksums
  nginx                                 # the reverse proxy the README's production section
                                        # puts in front (tests/gateway/nginx.mjs runs it)
)

APT_PACKAGES=(
  "${GATEWAY_PACKAGES[@]}"
  git xz-utils dpkg-dev
  clang libclang-rt-14-dev              # libFuzzer targets, sanitizers with clang
  libcmocka-dev                         # C unit tests
  emscripten binaryen wabt              # the wasm build
  monero                                # monerod for solo mining and integration tests
  chromium                              # browser tests (Debian's; never downloaded)
  firefox-esr webkit2gtk-driver xvfb    # the same in Firefox (WebDriver BiDi) and WebKitGTK's
                                        # MiniBrowser (WebKitWebDriver, under Xvfb)
  fonts-noto-cjk                        # Japanese text in the element and its screenshots
  procps psmisc curl python3 openssl     # test servers and tools
  prometheus                            # promtool: the gateway's /metrics test
  systemd                               # systemd-analyze verify: the unit's install test
  python3-matplotlib                    # bench/plot.py: bench/results as SVG
)

[[ $mode == gateway ]] && APT_PACKAGES=("${GATEWAY_PACKAGES[@]}")

# node and npm: use the machine's own when it has them (some images ship a newer Node.js
# than Debian's, and Debian's npm package conflicts with it); otherwise Debian's.
if [[ $mode == all ]]; then
  command -v node >/dev/null || APT_PACKAGES+=(nodejs)
  command -v npm >/dev/null || APT_PACKAGES+=(npm)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages already installed"
fi

if [[ $mode == gateway ]]; then
  echo "setup: done (gateway only: cmake --preset gateway && cmake --build --preset gateway)"
  exit 0
fi

bash scripts/fetch-randomx-source.sh

if [[ -f package.json ]]; then
  if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules ]]; then
    echo "setup: installing npm dev packages"
    if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund --loglevel=error
    else npm install --no-audit --no-fund --loglevel=error; fi
  fi
fi
echo "setup: done"
