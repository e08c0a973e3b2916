#!/usr/bin/env bash
# Puts canboat's PGN database (canboat.json from the npm package
# @canboat/ts-pgns, Apache-2.0) at a pinned version into a cache outside the
# repository, where the build turns it into C++ tables (tools/pgngen). The
# database is never copied into the repository.
#
#   cache: ${LPLEX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lplex}/canboat/<version>/
#
# Idempotent: when the cache already holds the pinned version (checked by its
# recorded hash) nothing is downloaded. To move to another version, change
# VERSION and INTEGRITY together (docs/decoding.md says how).
set -euo pipefail

VERSION=1.11.18
# npm's dist.integrity of @canboat/ts-pgns@1.11.18 (sha512 of the tarball).
INTEGRITY="sha512-zztRTmsd5ZgxYtOSMuW8u/aprSaRi6y+mXJels04OfF1BxiEMbK1ubssVrlHvrCes2uhNtnZ6ZLxkMCHyWhJhQ=="

cache_root="${LPLEX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lplex}"
dest="$cache_root/canboat/$VERSION"

if [ -f "$dest/canboat.json" ] && [ -f "$dest/integrity" ] && [ "$(cat "$dest/integrity")" = "$INTEGRITY" ]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-canboat: npm is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetch-canboat: fetching @canboat/ts-pgns@$VERSION into $dest" >&2
(cd "$work" && npm pack --silent "@canboat/ts-pgns@$VERSION" >/dev/null)
tarball="$work/canboat-ts-pgns-$VERSION.tgz"
if [ ! -f "$tarball" ]; then
  echo "fetch-canboat: npm pack did not produce $tarball" >&2
  exit 1
fi
# The integrity is base64; compare in hex with coreutils only (no openssl CLI needed).
want_hex="$(printf '%s' "${INTEGRITY#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')"
got_hex="$(sha512sum "$tarball" | cut -d' ' -f1)"
if [ "$got_hex" != "$want_hex" ]; then
  echo "fetch-canboat: @canboat/ts-pgns@$VERSION has sha512 $got_hex, expected $want_hex ($INTEGRITY); refusing it" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" package/canboat.json package/LICENSE
mkdir -p "$dest"
cp "$work/package/LICENSE" "$dest/LICENSE"
# The hash file is written last, so an interrupted copy is fetched again.
rm -f "$dest/integrity"
cp "$work/package/canboat.json" "$dest/canboat.json.tmp"
mv "$dest/canboat.json.tmp" "$dest/canboat.json"
echo "$INTEGRITY" > "$dest/integrity"
