#!/usr/bin/env bash
# Times a whole `vigil sbom` process on an image whose 12 layers are all in
# the layer cache (target < 50 ms), over a generated uncompressed
# docker-archive with about 3,700 packages (600 apk, the rest npm spread
# over 11 layers). Needs hyperfine (apt-get install -y hyperfine). Pass a
# second vigil binary as $1 to compare with it. Results go in
# docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench/rescan
mkdir -p "$out"
[ -f "$out/rescan.tar" ] || go run ./bench/gen -o "$out/rescan.tar" -packages 3700 -files 500 -avg 2000
go build -o "$out/vigil" ./cmd/vigil
ref="docker-archive:$out/rescan.tar"
cmds=()
for bin in "$out/vigil" ${1:+"$1"}; do
  cache="$out/cache-$(basename "$bin")"
  rm -rf "$cache"
  VIGIL_CACHE_DIR=$cache "$bin" sbom "$ref" >/dev/null # fill the cache
  cmds+=("env VIGIL_CACHE_DIR=$cache $bin sbom $ref")
done
hyperfine -N -w 3 -r 30 "${cmds[@]}"
