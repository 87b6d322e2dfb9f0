#!/usr/bin/env bash
# The layer check (docs/design.md, section 2): arrows only point down the "may use" column.
#   core/        includes no libuv, mbedTLS, wslay, http-parser, jansson, Emscripten or
#                native/ header (it runs unchanged in a native thread and a browser worker)
#   wasm/        includes nothing of native/
#   consent-ui/  never imports the runtime statically (it loads only after a yes)
# Usage: bash scripts/check-layers.sh [ROOT]   (ROOT defaults to the repository)
# Prints each breach as FILE:LINE: what, and exits 1 when there is one.
set -uo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root" || { echo "check-layers: no such folder: $root" >&2; exit 2; }
breaches=0

breach() { echo "$1: $2"; breaches=$((breaches + 1)); }

# Headers core/ may not see: the outside world's libraries and native/'s own headers.
native_headers=$(cd native 2>/dev/null && find . -name '*.h' -printf '%f\n' | sort -u | paste -sd'|')
forbidden_core='uv\.h|uv/|mbedtls/|wslay/|http_parser\.h|jansson\.h|emscripten|sys/socket\.h|pthread\.h'
if [[ -d core ]]; then
  while IFS= read -r hit; do
    breach "${hit%%:#*}" "core/ includes an outside library's header (${hit#*#})"
  done < <(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($forbidden_core)" core | sed -E 's/:([[:space:]]*#)/:#/')
  if [[ -n $native_headers ]]; then
    while IFS= read -r hit; do
      breach "${hit%%:#*}" "core/ includes a native/ header (${hit#*#})"
    done < <(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]([^\">]*/)?($native_headers)[\">]" core | sed -E 's/:([[:space:]]*#)/:#/')
  fi
fi

if [[ -d wasm && -n $native_headers ]]; then
  while IFS= read -r hit; do
    breach "${hit%%:#*}" "wasm/ includes a native/ header (${hit#*#})"
  done < <(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]([^\">]*native/[^\">]*|([^\">]*/)?($native_headers))[\">]" wasm --include='*.c' --include='*.h' --include='*.cpp' --include='*.hpp' | sed -E 's/:([[:space:]]*#)/:#/')
fi

# A static import (or re-export) of the runtime from the element's shipped code. Dynamic
# import() inside the consent path is the only way in.
if [[ -d consent-ui ]]; then
  while IFS= read -r hit; do
    breach "${hit%%:*}:$(cut -d: -f2 <<<"$hit")" "consent-ui/ imports the runtime statically"
  done < <(grep -rnE "^[[:space:]]*(import|export)[^(]*from[[:space:]]*['\"][^'\"]*(miner|worker|gateway|instance)\.mjs['\"]" consent-ui \
             --include='*.js' --include='*.mjs' --exclude-dir=node_modules --exclude-dir=dist --exclude-dir=types)
fi

if ((breaches)); then
  echo "check-layers: $breaches breach(es) of docs/design.md section 2"
  exit 1
fi
echo "check-layers: core, wasm and consent-ui keep to their layers"
