#!/usr/bin/env bash
# Cost of content verification (issue 8: at most 10 % of the scan time) on
# the 1.2 GiB synthetic image of bench/layers.sh. One command per question;
# each prints its runs, then medians and the overhead in %:
#
#   bench/verify-cost.sh                verification alone: bench/read of the
#                                       work tree built normally and with
#                                       -tags vigil_noverify (no hashing at
#                                       all), run alternately RUNS times
#                                       (default 7); wall and CPU (user+sys)
#   MODE=whole bench/verify-cost.sh     the whole engine against BASE
#                                       (default 08d49e4, the commit before
#                                       verification): includes everything
#                                       else added since
#   MODE=scan bench/verify-cost.sh      a whole `vigil image` scan (no layer
#                                       cache, DB from the corpus feeds, JSON
#                                       report): vigil built normally and
#                                       with -tags vigil_noverify; extra
#                                       arguments go to `vigil image`
#   MODE=scan-whole bench/verify-cost.sh  the same scan, vigil of BASE
#                                       (default 08d49e4) against the work
#                                       tree: today's scan vs the scan of the
#                                       commit before verification, each with
#                                       a DB it imported itself
#   MODE=callgrind bench/verify-cost.sh instruction counts (valgrind
#                                       callgrind, repeatable whatever the
#                                       load) of both builds of MODE=isolate
#                                       on a small image (4 layers, 80 MiB)
#
# Extra arguments go to bench/read: -checks -secrets reads what `vigil
# image` reads by default (its checks and secret scanner are on), none what
# `vigil sbom` reads; -j 1 one layer at a time. LAYOUT=blobs uses an image
# whose layers are named blobs/sha256/<digest of the gzip blob>, as `docker
# save` with the containerd image store writes them (default: layerNN.tar.gz,
# no blob digest). MODE=isolate is the default.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench
mkdir -p "$out"
mode=${MODE:-isolate}
runs=${RUNS:-7}
layout=${LAYOUT:-names}

# image DIR GEN-FLAGS...: generates DIR/synthetic.tar once.
image() {
  local dir=$1
  shift
  [ -f "$dir/synthetic.tar" ] || go run ./bench/gen -o "$dir/synthetic.tar" ${@+"$@"} >&2
  echo "$dir/synthetic.tar"
}

# compare A B ARGS...: runs $out/A and $out/B alternately, then medians.
compare() {
  local a=$1 b=$2 ref=$3
  shift 3
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  : >"$out/verify-cost.txt"
  for i in $(seq "$runs"); do
    for x in "$a" "$b"; do
      /usr/bin/time -f "$x %e %U %S" -a -o "$out/verify-cost.txt" "$out/$x" "$@" "$ref" >/dev/null
    done
  done
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  cat "$out/verify-cost.txt"
  python3 - "$out/verify-cost.txt" "$a" "$b" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def med(name, f):
    return statistics.median(f(r) for r in rows if r[0] == name)
a, b = sys.argv[2], sys.argv[3]
for label, f in (("wall", lambda r: float(r[1])), ("cpu", lambda r: float(r[2]) + float(r[3]))):
    x, y = med(a, f), med(b, f)
    print(f"median {label}: {a} {x:.2f} s, {b} {y:.2f} s, {100 * (y / x - 1):+.1f} %")
PY
}

# Images: the default one is bench/layers.sh's ($out/synthetic.tar).
genflags=() suffix=
[ "$layout" = names ] || genflags=(-layout "$layout") suffix=-$layout
big=$out${suffix:+/image$suffix}

case $mode in
whole)
  base=${BASE:-08d49e4}
  if [ ! -x "$out/read-$base" ]; then
    tmp=$(mktemp -d)
    git worktree add -q --detach "$tmp" "$base"
    (cd "$tmp" && go build -o "$OLDPWD/$out/read-$base" ./bench/read)
    git worktree remove --force "$tmp"
  fi
  go build -o "$out/read" ./bench/read
  ref="docker-archive:$(image "$big" ${genflags[@]+"${genflags[@]}"})"
  compare "read-$base" read "$ref" "$@"
  ;;
isolate)
  go build -o "$out/read" ./bench/read
  go build -tags vigil_noverify -o "$out/read-noverify" ./bench/read
  ref="docker-archive:$(image "$big" ${genflags[@]+"${genflags[@]}"})"
  compare read-noverify read "$ref" "$@"
  ;;
scan)
  go build -o "$out/vigil" ./cmd/vigil
  go build -tags vigil_noverify -o "$out/vigil-noverify" ./cmd/vigil
  corpus=${VIGIL_CORPUS:-../shared/corpus}
  export VIGIL_DB=$out/verify-cost.db
  [ -f "$VIGIL_DB" ] || "$out/vigil" db import "$corpus/feeds" >/dev/null 2>&1
  ref="docker-archive:$(image "$big" ${genflags[@]+"${genflags[@]}"})"
  # compare puts the image last; `vigil image` takes its flags before it.
  compare vigil-noverify vigil "$ref" image --no-cache --format json --output /dev/null --exit-code 0 -q "$@"
  ;;
scan-whole)
  base=${BASE:-08d49e4}
  if [ ! -x "$out/vigil-$base" ]; then
    tmp=$(mktemp -d)
    git worktree add -q --detach "$tmp" "$base"
    (cd "$tmp" && go build -o "$OLDPWD/$out/vigil-$base" ./cmd/vigil)
    git worktree remove --force "$tmp"
  fi
  go build -o "$out/vigil" ./cmd/vigil
  corpus=${VIGIL_CORPUS:-../shared/corpus}
  # Each build reads a DB of its own schema: `vigil image` takes --db.
  for x in "vigil-$base" vigil; do
    [ -f "$out/verify-cost-$x.db" ] || "$out/$x" db import --db "$out/verify-cost-$x.db" "$corpus/feeds" >/dev/null 2>&1
  done
  ref="docker-archive:$(image "$big" ${genflags[@]+"${genflags[@]}"})"
  for x in "vigil-$base" vigil; do
    printf '#!/bin/sh\nexec "%s" "$@" --db "%s" 2>/dev/null\n' "$PWD/$out/$x" "$PWD/$out/verify-cost-$x.db" >"$out/$x-withdb"
    chmod +x "$out/$x-withdb"
  done
  compare "vigil-$base-withdb" vigil-withdb "$ref" image --no-cache --format json --output /dev/null --exit-code 0 "$@"
  ;;
callgrind)
  go build -o "$out/read" ./bench/read
  go build -tags vigil_noverify -o "$out/read-noverify" ./bench/read
  ref="docker-archive:$(image "$out/small$suffix" -layers 4 -files 2000 ${genflags[@]+"${genflags[@]}"})"
  echo "load (irrelevant to instruction counts): $(cut -d' ' -f1-3 /proc/loadavg)"
  for x in read-noverify read; do
    # Go's asynchronous preemption signals crash callgrind.
    GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$x" \
      "$out/$x" "$@" "$ref" 2>&1 | grep -E '^read |refs' || true
  done
  python3 - "$out/callgrind.read-noverify" "$out/callgrind.read" <<'PY'
import re, subprocess, sys
def counts(path):
    text = subprocess.run(["callgrind_annotate", "--threshold=100", path], capture_output=True, text=True, check=True).stdout
    total = sha = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) .*PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
        m = re.match(r"\s*([\d,]+) \(.*\)\s+\S*sha256.*:\S*sha256\.block", line)
        if m:
            sha += int(m.group(1).replace(",", ""))
    return total, sha
(a, asha), (b, bsha) = counts(sys.argv[1]), counts(sys.argv[2])
print(f"instructions: read-noverify {a:,}, read {b:,}, {100 * (b / a - 1):+.1f} %")
print(f"  of which in SHA-256 blocks: {asha:,} and {bsha:,}")
print(f"  difference outside SHA-256: {(b - bsha) - (a - asha):+,} ({100 * ((b - bsha) / (a - asha) - 1):+.2f} %)")
print("note: valgrind hides SHA-NI, so SHA-256 runs its AVX2 code here, several")
print("times the instructions of the SHA-NI code a real run uses")
PY
  ;;
*)
  echo "verify-cost.sh: MODE is isolate, whole, scan, scan-whole or callgrind" >&2
  exit 2
  ;;
esac
