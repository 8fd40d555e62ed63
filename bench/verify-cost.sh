#!/usr/bin/env bash
# Cost of content verification (issue 8: at most 10 % of the scan time) on
# the 1.2 GiB synthetic image of bench/layers.sh: bench/read built from
# BASE (default 08d49e4, the commit before verification) and from the work
# tree, run alternately RUNS times (default 7) so a changing machine load
# hits both alike. Prints each run, then the median wall time and CPU time
# (user+sys) of both and the ratio, with the load average before and after.
# Pass extra bench/read flags as arguments (e.g. -j 1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench
mkdir -p "$out"
base=${BASE:-08d49e4}
runs=${RUNS:-7}
[ -f "$out/synthetic.tar" ] || go run ./bench/gen -o "$out/synthetic.tar"
if [ ! -x "$out/read-$base" ]; then
  tmp=$(mktemp -d)
  git worktree add -q --detach "$tmp" "$base"
  (cd "$tmp" && go build -o "$OLDPWD/$out/read-$base" ./bench/read)
  git worktree remove --force "$tmp"
fi
go build -o "$out/read" ./bench/read
ref="docker-archive:$out/synthetic.tar"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$out/verify-cost.txt"
for i in $(seq "$runs"); do
  for b in "read-$base" read; do
    /usr/bin/time -f "$b %e %U %S" -a -o "$out/verify-cost.txt" "$out/$b" "$@" "$ref" >/dev/null
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$out/verify-cost.txt"
python3 - "$out/verify-cost.txt" "read-$base" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def med(name, f):
    return statistics.median(f(r) for r in rows if r[0] == name)
base, cur = sys.argv[2], "read"
for label, f in (("wall", lambda r: float(r[1])), ("cpu", lambda r: float(r[2]) + float(r[3]))):
    b, c = med(base, f), med(cur, f)
    print(f"median {label}: {base} {b:.2f} s, read {c:.2f} s, {100 * (c / b - 1):+.1f} %")
PY
