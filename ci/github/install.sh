#!/usr/bin/env bash
# Installs a released Vigil binary for the runner's OS and architecture,
# verified against the release's checksums.txt, into VIGIL_INSTALL_DIR and
# prints the binary's path. Used by action.yml; works anywhere with bash,
# curl, tar and sha256sum (or shasum).
#
#   VIGIL_VERSION        release tag (v1.4.0) or "latest" (default)
#   VIGIL_DOWNLOAD_BASE  releases URL; assets are fetched from
#                        BASE/download/TAG/ASSET or BASE/latest/download/ASSET
#                        (default https://github.com/vigil-scan/vigil/releases;
#                        point it at a mirror or a test server)
#   VIGIL_INSTALL_DIR    where to put the binary (default $RUNNER_TEMP/vigil-bin)
#   GITHUB_TOKEN         sent to github.com only (private forks, rate limits)
#
# Assets, as `make release` writes them: vigil_<os>_<arch>.tar.gz holding the
# binary `vigil` (vigil.exe on Windows), and checksums.txt in sha256sum's
# format. Any failure exits non-zero with one ::error:: line.
set -euo pipefail

fail() { echo "::error::vigil install: $*" >&2; exit 2; }

version="${VIGIL_VERSION:-latest}"
[ -z "$version" ] && version=latest
base="${VIGIL_DOWNLOAD_BASE:-https://github.com/vigil-scan/vigil/releases}"
base="${base%/}"
dest="${VIGIL_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/vigil-bin}"

case "$version" in
  latest|v[0-9]*) ;;
  *) fail "version \"$version\" is not a release tag (vX.Y.Z) or \"latest\"" ;;
esac

os="${RUNNER_OS:-$(uname -s)}"
case "$os" in
  Linux|linux) os=linux ;;
  macOS|Darwin|darwin) os=darwin ;;
  Windows|MINGW*|MSYS*|CYGWIN*) os=windows ;;
  *) fail "unsupported OS $os" ;;
esac
arch="${RUNNER_ARCH:-$(uname -m)}"
case "$arch" in
  X64|x86_64|amd64) arch=amd64 ;;
  ARM64|aarch64|arm64) arch=arm64 ;;
  *) fail "unsupported architecture $arch" ;;
esac
asset="vigil_${os}_${arch}.tar.gz"
if [ "$version" = latest ]; then
  url="$base/latest/download"
else
  url="$base/download/$version"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
auth=()
case "$url" in
  https://github.com/*) [ -n "${GITHUB_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $GITHUB_TOKEN") ;;
esac
fetch() {
  curl -fsSL --retry 3 --connect-timeout 20 --max-time 300 "${auth[@]}" -o "$tmp/$1" "$url/$1" ||
    fail "downloading $url/$1 failed"
}
fetch checksums.txt
fetch "$asset"

want="$(awk -v a="$asset" '$2 == a || $2 == "*" a {print $1}' "$tmp/checksums.txt" | head -n1)"
[ -n "$want" ] || fail "checksums.txt of $version lists no $asset"
if command -v sha256sum >/dev/null; then
  got="$(sha256sum "$tmp/$asset" | awk '{print $1}')"
else
  got="$(shasum -a 256 "$tmp/$asset" | awk '{print $1}')"
fi
[ "$got" = "$want" ] || fail "$asset: sha256 $got does not match checksums.txt ($want)"

mkdir -p "$dest"
bin=vigil
[ "$os" = windows ] && bin=vigil.exe
tar -xzf "$tmp/$asset" -C "$tmp" "$bin" || fail "$asset holds no $bin"
mv "$tmp/$bin" "$dest/$bin"
chmod +x "$dest/$bin"
echo "$dest/$bin"
