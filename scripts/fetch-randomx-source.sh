#!/usr/bin/env bash
# Fetches RandomX's source from Debian's source package `librandomx` (for the wasm build
# and the reference benchmark), checks the orig tarball's sha256 and unpacks it into
# third_party/randomx (git-ignored; nothing is vendored). deb-src is not configured by
# default, so a private sources list is built from the machine's own one.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.1.10
SHA256=051cee65700a10adef84e7946416068bc805757683378a854a1b168ec18da783
ORIG="librandomx_${VERSION}.orig.tar.gz"
DEST=third_party/randomx
DL=third_party/download

if [[ -f "$DEST/.sha256" ]] && [[ "$(cat "$DEST/.sha256")" == "$SHA256" ]]; then
  echo "randomx source: $DEST already unpacked (sha256 verified)"
  exit 0
fi
mkdir -p "$DL"
if [[ ! -f "$DL/$ORIG" ]] || ! echo "$SHA256  $DL/$ORIG" | sha256sum -c --quiet - 2>/dev/null; then
  APTDIR="$(pwd)/third_party/apt"
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/sources.list.d"
  src=/etc/apt/sources.list.d/debian.sources
  if [[ -f "$src" ]]; then
    sed 's/^Types: deb$/Types: deb-src/' "$src" > "$APTDIR/sources.list.d/debian-src.sources"
  else
    grep -h '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > "$APTDIR/sources.list.d/debian-src.list"
  fi
  : > "$APTDIR/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APTDIR/sources.list"
            -o "Dir::Etc::SourceParts=$APTDIR/sources.list.d"
            -o "Dir::State::Lists=$APTDIR/lists")
  apt-get "${APT_OPTS[@]}" update -qq
  # The .debian.tar.xz may 404; only the orig tarball matters, so tolerate the failure
  # and check for the tarball itself.
  (cd "$DL" && apt-get "${APT_OPTS[@]}" source --download-only "librandomx=$VERSION*" >/dev/null 2>&1 \
     || apt-get "${APT_OPTS[@]}" source --download-only librandomx >/dev/null 2>&1 || true)
fi
if [[ ! -f "$DL/$ORIG" ]]; then
  echo "randomx source: could not download $ORIG from Debian's source package librandomx" >&2
  exit 1
fi
if ! echo "$SHA256  $DL/$ORIG" | sha256sum -c --quiet -; then
  echo "randomx source: $ORIG has the wrong sha256 (expected $SHA256); refusing to use it" >&2
  rm -f "$DL/$ORIG"
  exit 1
fi
rm -rf "$DEST"
mkdir -p "$DEST"
tar -xzf "$DL/$ORIG" -C "$DEST" --strip-components=1
echo "$SHA256" > "$DEST/.sha256"
echo "randomx source: unpacked $ORIG into $DEST (sha256 verified)"
