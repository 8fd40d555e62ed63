#!/usr/bin/env bash
# End-to-end timings of the vigil binary (results go in docs/performance.md):
#  1. `vigil db import` of the corpus feeds: wall time and peak RSS;
#  2. `vigil image` on the corpus alpine-310 archive with a warm DB, median of
#     N runs: warm layer cache, no layer cache, and without checks+secrets
#     (the overhead of checks and secret scanning);
#  3. the same overhead on the synthetic 1.2 GiB image of bench/layers.sh.
# Usage: bench/e2e.sh [RUNS]   (CORPUS=../shared/corpus by default)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
corpus=${CORPUS:-../shared/corpus}
out=.cache/bench
mkdir -p "$out"
go build -trimpath -o "$out/vigil" ./cmd/vigil
vigil="$out/vigil"
export VIGIL_DB="$out/e2e.db" VIGIL_CACHE_DIR="$out/e2e-cache"

peak() { awk -F': ' '/Maximum resident set size/ {printf "%d MiB", $2/1024}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1"; }

echo "== db import $corpus/feeds"
rm -f "$VIGIL_DB"
/usr/bin/time -v "$vigil" db import "$corpus/feeds" 2>"$out/import.txt" >/dev/null || { cat "$out/import.txt"; exit 1; }
echo "wall $(wall "$out/import.txt"), peak RSS $(peak "$out/import.txt"), DB $(du -h "$VIGIL_DB" | cut -f1)"

echo "== db import of the Go OSV dump, 1x and a synthetic 10x (renamed ids and modules)"
synth="$(pwd)/$out/synth"
[ -f "$synth/osv/Go/all.zip" ] || VIGIL_SYNTH_DIR="$synth" go test -count=1 -run '^TestSyntheticFeed$' ./internal/vulndb >/dev/null
for feeds in "$corpus/feeds" "$synth"; do
  rm -f "$out/go-only.db"
  /usr/bin/time -v "$vigil" db import "$feeds" --feed osv/Go --db "$out/go-only.db" 2>"$out/import-go.txt" >/dev/null
  echo "$feeds: wall $(wall "$out/import-go.txt"), peak RSS $(peak "$out/import-go.txt"), zip $(du -h "$feeds/osv/Go/all.zip" | cut -f1)"
done

# median_ms CMD...: median wall time of $runs runs, in milliseconds.
median_ms() {
  local times=() i s e
  for ((i = 0; i < runs; i++)); do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    times+=($(((e - s) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ref="docker-archive:$corpus/images/alpine-310.tar.gz"
"$vigil" image "$ref" >/dev/null 2>&1 || true # fill the layer cache
full=$(median_ms "$vigil" image "$ref" --format json)
bare=$(median_ms "$vigil" image "$ref" --format json --checks=false --secrets=false)
nocache=$(median_ms "$vigil" image "$ref" --format json --no-cache)
nocache_bare=$(median_ms "$vigil" image "$ref" --format json --no-cache --checks=false --secrets=false)
echo "== vigil image alpine-310 (median of $runs, warm DB)"
echo "warm layer cache: ${full} ms with checks+secrets, ${bare} ms without"
echo "no layer cache:   ${nocache} ms with checks+secrets, ${nocache_bare} ms without"

if [ -f "$out/synthetic.tar" ]; then
  echo "== synthetic image (bench/layers.sh), no layer cache"
  syn="docker-archive:$out/synthetic.tar"
  /usr/bin/time -v "$vigil" image "$syn" --no-cache --format json >/dev/null 2>"$out/syn-full.txt" || true
  /usr/bin/time -v "$vigil" image "$syn" --no-cache --format json --checks=false --secrets=false >/dev/null 2>"$out/syn-bare.txt" || true
  echo "with checks+secrets: $(wall "$out/syn-full.txt"), peak RSS $(peak "$out/syn-full.txt")"
  echo "without:             $(wall "$out/syn-bare.txt"), peak RSS $(peak "$out/syn-bare.txt")"
else
  echo "(run bench/layers.sh first to measure the synthetic image)"
fi
