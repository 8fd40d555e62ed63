#!/usr/bin/env bash
# Push → findings latency of a real `vigil serve` (SQLite, DB built from the
# corpus feeds mirror) at RATE pushes/min (default 100) for DURATION
# (default 3m): bench/serve/push runs a Distribution registry that notifies
# the service and pushes the corpus alpine-310 image, a new config label
# (so a new digest) each time. Target: p95 < 2 min. CORPUS defaults to
# ../shared/corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${CORPUS:-$(cd .. && pwd)/shared/corpus}
out=.cache/bench/serve-push
mkdir -p "$out"
go build -o "$out/vigil" ./cmd/vigil
go build -o "$out/push" ./bench/serve/push
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; cp "$dir/serve.log" "$out/serve.log" 2>/dev/null; rm -rf "$dir"' EXIT
tok=$("$out/vigil" token create --data-dir "$dir" --tenant bench --scope admin)
VIGIL_FEEDS_MIRROR="$corpus/feeds" XDG_CACHE_HOME="$dir/cache" "$out/vigil" serve --data-dir "$dir" --listen "127.0.0.1:$port" \
  >"$dir/serve.log" 2>&1 & pid=$!
url="http://127.0.0.1:$port"
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; do
  kill -0 $pid || { cat "$dir/serve.log"; exit 1; }
  sleep 1
done
echo "service ready ($(uptime | sed 's/.*load/load/'))"
# The registry logs every request on stderr; the result is on stdout.
"$out/push" -url "$url" -token "$tok" -image "$corpus/images/alpine-310.tar.gz" -rate "${RATE:-100}" -duration "${DURATION:-3m}" 2>"$dir/push.log" \
  || { grep -v "level=info" "$dir/push.log" | tail -20; exit 1; }
echo "($(uptime | sed 's/.*load/load/'))"
