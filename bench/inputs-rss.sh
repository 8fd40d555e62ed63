#!/usr/bin/env bash
# Peak RSS of `vigil image` with policy and VEX inputs near their size caps
# (issue 8 item 8: stay under 256 MB). Generates a .vigil.yaml just under
# the 8 MiB policy cap and an OpenVEX document just under the 64 MiB VEX
# cap, scans a small root filesystem (the corpus's Alpine apk DB) with each,
# and prints the "Maximum resident set size" of /usr/bin/time -v. A
# baseline without inputs is printed first. Results go in
# docs/performance.md. Pass another vigil binary as $1 to measure it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench/inputs-rss
mkdir -p "$out"
corpus=${VIGIL_CORPUS:-../shared/corpus}
bin=${1:-$out/vigil}
[ -n "${1:-}" ] || go build -o "$bin" ./cmd/vigil
export VIGIL_DB=$out/vigil.db VIGIL_CACHE_DIR=$out/cache
[ -f "$VIGIL_DB" ] || "$bin" db import "$corpus/feeds" >/dev/null 2>&1
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
# .vigil.yaml: ~7.9 MB of exceptions (cap 8 MiB).
with open(f"{out}/policy.yaml", "w") as f:
    f.write("version: 1\nignore:\n")
    i, size = 0, 0
    while size < 7_900_000:
        line = f'  - id: CVE-2024-{i:06d}\n    package: "pkg-{i}"\n    reason: "bench exception number {i}"\n'
        f.write(line); size += len(line); i += 1
# OpenVEX: ~63 MB of statements (cap 64 MiB).
stmts, size, i = [], 0, 0
while size < 63_000_000:
    s = {"vulnerability": {"name": f"CVE-2024-{i:06d}"}, "products": [{"@id": f"pkg:apk/alpine/pkg-{i}@1.0-r0"}],
         "status": "not_affected", "justification": "vulnerable_code_not_present"}
    size += len(json.dumps(s)) + 2; stmts.append(s); i += 1
json.dump({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/bench", "author": "bench",
           "timestamp": "2026-01-01T00:00:00Z", "version": 1, "statements": stmts}, open(f"{out}/openvex.json", "w"))
PY
ref="dir:$corpus/pkgdb/apk/trivy-alpine"
rss() { # label, args...
  local label=$1; shift
  /usr/bin/time -v "$bin" image "$ref" --format json --output /dev/null --checks=false --secrets=false "$@" 2>"$out/time.txt" || true
  printf '%-28s %8s KB  %s\n' "$label" "$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$out/time.txt")" "$(grep -m1 '^vigil:' "$out/time.txt" || true)"
}
ls -l "$out/policy.yaml" "$out/openvex.json" | awk '{print $5, $9}'
rss "no inputs"
rss "policy (.vigil.yaml ~7.9MB)" --policy "$out/policy.yaml"
rss "OpenVEX (~63MB)" --vex "$out/openvex.json"
