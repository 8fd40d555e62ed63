#!/usr/bin/env bash
# First-run DB download from a local registry: `vigil db publish --to` a DB
# built from the corpus feeds into Debian's docker-registry on 127.0.0.1,
# then, RUNS times, a first scan with no DB and an empty cache that gets
# its DB through --db-repository oci://..., and a bare
# `vigil db update --from oci://...`. Prints wall seconds per run and the
# median. The budget is < 10 s for the first scan. Results go in
# docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
corpus="${VIGIL_CORPUS:-../shared/corpus}"
command -v docker-registry >/dev/null || { echo "docker-registry is not installed (apt-get install docker-registry)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${reg_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/vigil" ./cmd/vigil
vigil="$work/vigil"

echo "== DB from the corpus feeds"
VIGIL_CACHE_DIR="$work/pub-cache" "$vigil" db import "$corpus/feeds" --db "$work/published.db" 2>/dev/null
ls -l "$work/published.db" | awk '{printf "DB file %.1f MiB\n", $5/1048576}'

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
reg_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
repo="oci://127.0.0.1:$port/vigil-db:1"
"$vigil" db publish --db "$work/published.db" --to "$repo" --insecure-registry
ls -l "$work"/registry/docker/registry/v2/blobs/sha256/*/*/data | awk '{s+=$5} END {printf "pushed %.1f MiB (compressed layer + config + manifest)\n", s/1048576}'

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# secs prints the wall seconds of a command that must succeed.
secs() {
  local s; s=$(date +%s.%N)
  "$@" >"$work/out.txt" 2>"$work/err.txt" || { echo "failed: $*" >&2; cat "$work/err.txt" >&2; return 1; }
  echo "$(date +%s.%N) - $s" | bc
}

image="docker-archive:$corpus/images/alpine-310.tar.gz"
echo "== first scan with no DB (--db-repository $repo), $RUNS runs; load: $(uptime | sed 's/.*load average: //')"
: >"$work/scan.txt"
for i in $(seq "$RUNS"); do
  rm -rf "$work/run"
  t=$(secs env VIGIL_CACHE_DIR="$work/run" "$vigil" image "$image" --db "$work/run/db/vigil.db" \
    --db-repository "$repo" --db-insecure-registry --format json -q --exit-code 0)
  grep -q '"vulnerabilities"' "$work/out.txt" || { echo "run $i: no report" >&2; exit 1; }
  [ -s "$work/run/db/vigil.db" ] || { echo "run $i: no DB was installed" >&2; exit 1; }
  echo "run $i: ${t}s"; echo "$t" >>"$work/scan.txt"
done
echo "median first scan: $(median <"$work/scan.txt")s"

echo "== vigil db update --from $repo (no DB, empty cache), $RUNS runs"
: >"$work/update.txt"
for i in $(seq "$RUNS"); do
  rm -rf "$work/run"
  t=$(secs env VIGIL_CACHE_DIR="$work/run" "$vigil" db update --from "$repo" --insecure-registry --db "$work/run/db/vigil.db")
  echo "run $i: ${t}s"; echo "$t" >>"$work/update.txt"
done
echo "median db update --from: $(median <"$work/update.txt")s"
echo "load after: $(uptime | sed 's/.*load average: //')"
