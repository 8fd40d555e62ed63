#!/usr/bin/env bash
# Compares Vigil's layer reading (image.Read with catalog.Packages()) against
# `gzip -dc layer | tar -t` over the same synthetic image, and measures peak
# RSS and the cached re-scan. Results go in docs/performance.md.
# The synthetic image (about 1.2 GiB uncompressed, 120,000 files, 12 gzip
# layers) is generated under .cache/bench, which is not committed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench
mkdir -p "$out"
[ -f "$out/synthetic.tar" ] || go run ./bench/gen -o "$out/synthetic.tar"
go build -o "$out/read" ./bench/read
ref="docker-archive:$out/synthetic.tar"

seconds() { local s; s=$(date +%s.%N); "$@"; echo "$(date +%s.%N) - $s" | bc; }

echo "== baseline: gzip -dc | tar -t, layer by layer"
base=$(seconds bash -c "for l in $out/layer*.tar.gz; do gzip -dc \"\$l\" | tar -t >/dev/null; done")
echo "baseline ${base}s"

for j in 1 2; do
  echo "== vigil cold, $j layer(s) at once"
  /usr/bin/time -v "$out/read" -j "$j" "$ref" 2>"$out/time-$j.txt"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time-$j.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time-$j.txt")
  echo "wall $wall, peak RSS $((rss / 1024)) MiB"
done

echo "== vigil cold with the checks and secrets analyzers, 2 layers at once"
/usr/bin/time -v "$out/read" -checks -secrets "$ref" 2>"$out/time-extras.txt"
echo "wall $(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/time-extras.txt"), peak RSS $(($(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time-extras.txt") / 1024)) MiB"

echo "== vigil cached re-scan"
rm -rf "$out/cache"
"$out/read" -cache "$out/cache" "$ref" >/dev/null
"$out/read" -cache "$out/cache" "$ref"
