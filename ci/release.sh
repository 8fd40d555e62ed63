#!/usr/bin/env bash
# Builds the release assets ci/github/install.sh and the README's install
# instructions expect, into dist/: vigil_<os>_<arch>.tar.gz for Linux, macOS
# and Windows on amd64 and arm64, and checksums.txt (sha256sum format).
# Upload them to the GitHub release of the tag.
#
#   bash ci/release.sh v1.4.0
set -euo pipefail
version="${1:?usage: ci/release.sh vX.Y.Z}"
cd "$(dirname "$0")/.."
rm -rf dist && mkdir -p dist
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
  os="${target%/*}" arch="${target#*/}"
  bin=vigil; [ "$os" = windows ] && bin=vigil.exe
  work="$(mktemp -d)"
  CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath \
    -ldflags "-s -w -X github.com/vigil-scan/vigil/internal/cli.Version=$version" \
    -o "$work/$bin" ./cmd/vigil
  cp README.md "$work/"
  tar -czf "dist/vigil_${os}_${arch}.tar.gz" -C "$work" "$bin" README.md
  rm -rf "$work"
done
(cd dist && sha256sum vigil_*.tar.gz > checksums.txt)
ls -l dist
