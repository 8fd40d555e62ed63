#!/usr/bin/env bash
# Peak RSS of Vigil reading its kinds of user input near their size caps
# (issue 8 item 8: stay under 256 MB): a .vigil.yaml policy, Trivy and
# Grype ignore files and an Azure allow-list (cap 8 MiB), OpenVEX and
# CycloneDX VEX documents (cap 64 MiB), SBOMs for `vigil sbom-scan`
# (CycloneDX JSON and XML, SPDX JSON and tag-value, Vigil JSON; cap
# 256 MiB) and JSON reports for `vigil publish`: the client sending
# ~16 MB, ~63 MB and PUBLISH_MB (default 480; its cap is 512 MiB) to a
# sink, and `vigil serve` taking ~16 MB (its default body cap is 16 MiB)
# and ~63 MB (at --max-body 64MiB). Prints /usr/bin/time -v's "Maximum
# resident set size" per input, and the server's VmHWM. Results go in
# docs/performance.md. Pass another vigil binary as $1 to measure it
# instead (an old client holds the whole report: about 8 bytes per byte
# of report); SBOM_MB sets the SBOM size (default 64; the cap is 256).
#
# The inputs are generated from real data so they look like real ones:
# vulnerability ids are the CVE ids of the corpus feeds, packages are the
# 357 dpkg packages of the corpus's Ubuntu 18.04 status file (vigil sbom of
# it, in each format, replicated with numbered names), findings are those of
# a scan of all the corpus's package databases (replicated).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench/inputs-rss
mkdir -p "$out"
corpus=${VIGIL_CORPUS:-../shared/corpus}
bin=${1:-$out/vigil}
[ -n "${1:-}" ] || go build -o "$bin" ./cmd/vigil
export VIGIL_DB=$out/vigil.db VIGIL_CACHE_DIR=$out/cache
[ -f "$VIGIL_DB" ] || "$bin" db import "$corpus/feeds" >/dev/null 2>&1
sbom_mb=${SBOM_MB:-64}
rootfs="dir:$corpus/pkgdb/dpkg/claircore-ubuntu1804-texlive"
for f in cyclonedx-json spdx-json json; do
  [ -f "$out/seed.$f" ] || "$bin" sbom "$rootfs" --format "$f" --output "$out/seed.$f" >/dev/null 2>&1
done
[ -f "$out/seed-report.json" ] || "$bin" image "dir:$corpus/pkgdb" --format json --output "$out/seed-report.json" --exit-code 0 >/dev/null 2>&1 || true
publish_mb=${PUBLISH_MB:-480}
python3 - "$out" "$corpus/feeds" "$sbom_mb" "$publish_mb" <<'PY'
import json, os, re, sys, zipfile
out, feeds, sbom_mb, publish_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def have(name, size):
    p = f"{out}/{name}"
    return os.path.exists(p) and abs(os.path.getsize(p) - size) < size // 10

# Real CVE ids from the corpus feeds (OSV zips, secdb, Debian, KEV).
ids = set()
for dirpath, _, files in os.walk(feeds):
    for fn in files:
        p = os.path.join(dirpath, fn)
        if fn.endswith(".zip"):
            with zipfile.ZipFile(p) as z:
                for n in z.namelist():
                    ids.update(re.findall(rb"CVE-\d{4}-\d{4,7}", z.read(n)))
        else:
            with open(p, "rb") as f:
                ids.update(re.findall(rb"CVE-\d{4}-\d{4,7}", f.read()))
ids = sorted(i.decode() for i in ids)
seed_cdx = json.load(open(f"{out}/seed.cyclonedx-json"))
purls = [c["purl"] for c in seed_cdx["components"] if c.get("purl")]

# .vigil.yaml: ~7.9 MB of exceptions (cap 8 MiB).
if not have("policy.yaml", 7_900_000):
    with open(f"{out}/policy.yaml", "w") as f:
        f.write("version: 1\nignore:\n")
        i, size = 0, 0
        while size < 7_900_000:
            pkg = purls[i % len(purls)].split("/")[-1].split("@")[0]
            line = (f"  - id: {ids[i % len(ids)]}\n    package: \"{pkg}\"\n"
                    f"    reason: \"not reachable in this image (review {i})\"\n    expires: 2027-06-30\n")
            f.write(line); size += len(line); i += 1

# OpenVEX: ~63 MB of statements (cap 64 MiB), streamed out.
if not have("openvex.json", 63_000_000):
    with open(f"{out}/openvex.json", "w") as f:
        f.write('{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/bench", "author": "bench",'
                ' "timestamp": "2026-01-01T00:00:00Z", "version": 1, "statements": [')
        size, i = 0, 0
        while size < 63_000_000:
            s = json.dumps({"vulnerability": {"name": ids[i % len(ids)]},
                            "products": [{"@id": purls[i % len(purls)].replace("@", f"-{i // len(purls)}@", 1)}],
                            "status": "not_affected", "justification": "vulnerable_code_not_present",
                            "impact_statement": f"reviewed in ticket SEC-{i}"})
            f.write(("," if i else "") + s); size += len(s) + 1; i += 1
        f.write("]}")

# CycloneDX VEX: ~63 MB of analysed vulnerabilities (the VEX cap is 64
# MiB), each affecting one component of the SBOM, by bom-ref.
if not have("vex.cdx.json", 63_000_000):
    comps = [c for c in seed_cdx["components"] if c.get("purl")]
    with open(f"{out}/vex.cdx.json", "w") as f:
        f.write('{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,'
                ' "metadata": {"timestamp": "2026-01-01T00:00:00Z"}, "components": [')
        f.write(",".join(json.dumps({"type": "library", "bom-ref": f"ref-{i}", "name": c["name"], "purl": c["purl"]})
                         for i, c in enumerate(comps)))
        f.write('], "vulnerabilities": [')
        size, i = 0, 0
        while size < 62_900_000:
            s = json.dumps({"id": ids[i % len(ids)], "source": {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{ids[i % len(ids)]}"},
                            "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                                         "response": ["will_not_fix"], "detail": f"reviewed in ticket SEC-{i}"},
                            "affects": [{"ref": f"ref-{i % len(comps)}"}]})
            f.write(("," if i else "") + s); size += len(s) + 1; i += 1
        f.write("]}")

# Trivy and Grype ignore files and an Azure allow-list, ~7.9 MB each (their
# cap is the policy file's, 8 MiB).
def ignore_file(name, head, entry):
    if have(name, 7_900_000):
        return
    with open(f"{out}/{name}", "w") as f:
        f.write(head)
        size, i = 0, 0
        while size < 7_900_000:
            pkg = purls[i % len(purls)].split("/")[-1].split("@")[0]
            s = entry(i, ids[i % len(ids)], pkg, purls[i % len(purls)])
            f.write(s); size += len(s); i += 1
ignore_file("trivyignore", "", lambda i, cve, pkg, purl: f"# not reachable in this image (review {i})\n{cve} exp:2027-06-30\n\n")
ignore_file("trivyignore.yaml", "vulnerabilities:\n", lambda i, cve, pkg, purl:
            f"  - id: {cve}\n    purls:\n      - \"{purl}\"\n    statement: not reachable in this image (review {i})\n    expired_at: 2027-06-30\n")
ignore_file("grype.yaml", "ignore:\n", lambda i, cve, pkg, purl:
            f"  - vulnerability: {cve}\n    reason: not reachable in this image (review {i})\n    package:\n      name: {pkg}\n      type: deb\n")
ignore_file("allowlist.yaml", "general:\n  vulnerabilities:\n", lambda i, cve, pkg, purl:
            f"    - {cve} exp:2027-06-30 # not reachable in this image (review {i})\n")

# SBOMs: the seed's packages, renamed, up to sbom_mb MB.
def replicate(name, key, rename):
    target = sbom_mb * 1_000_000
    if have(name, target):
        return
    seed = json.load(open(f"{out}/seed.{name.split('.', 1)[1]}"))
    items = seed[key]
    seed[key] = []
    head, tail = json.dumps(seed).rsplit(f'"{key}": []', 1)
    with open(f"{out}/{name}", "w") as f:
        f.write(head + f'"{key}": [')
        size, i = 0, 0
        while size < target:
            s = json.dumps(rename(dict(items[i % len(items)]), i // len(items)))
            f.write(("," if i else "") + s); size += len(s) + 1; i += 1
        f.write("]" + tail)

def cdx(c, n):
    for k in ("bom-ref", "purl"):
        if k in c: c[k] = c[k].replace("@", f"-{n}@", 1)
    c["name"] += f"-{n}"
    return c
def spdx(p, n):
    p["name"] += f"-{n}"; p["SPDXID"] += f"-{n}"
    p["externalRefs"] = [dict(r, referenceLocator=r["referenceLocator"].replace("@", f"-{n}@", 1)) for r in p.get("externalRefs", [])]
    return p
def vig(p, n):
    p["name"] += f"-{n}"; p["purl"] = p["purl"].replace("@", f"-{n}@", 1)
    return p
seed_cdx.pop("dependencies", None)
replicate("sbom.cyclonedx-json", "components", cdx)
replicate("sbom.spdx-json", "packages", spdx)
replicate("sbom.json", "packages", vig)

# The same packages as CycloneDX XML and SPDX tag-value (Vigil writes
# neither): the replicated JSON SBOMs' fields, written in those encodings.
from xml.sax.saxutils import escape, quoteattr
def have_mb(name):
    return have(name, sbom_mb * 1_000_000)
if not have_mb("sbom.cyclonedx-xml"):
    with open(f"{out}/sbom.cyclonedx-xml", "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">\n'
                '  <metadata>\n    <tools><components><component type="application"><name>vigil</name></component></components></tools>\n'
                f'    <component type="container"><name>{escape(seed_cdx["metadata"]["component"]["name"])}</name></component>\n  </metadata>\n  <components>\n')
        items = [c for c in seed_cdx["components"]]
        size, i = 0, 0
        while size < sbom_mb * 1_000_000:
            c = cdx(dict(items[i % len(items)]), i // len(items))
            x = [f'    <component type={quoteattr(c["type"])}' + (f' bom-ref={quoteattr(c["bom-ref"])}' if "bom-ref" in c else "") + ">",
                 f"<name>{escape(c['name'])}</name>"]
            if c.get("version"): x.append(f"<version>{escape(c['version'])}</version>")
            lic = [l["license"].get("id") or l["license"].get("name") for l in c.get("licenses", []) if "license" in l]
            if lic: x.append("<licenses>" + "".join(f"<license><name>{escape(l)}</name></license>" for l in lic) + "</licenses>")
            if c.get("purl"): x.append(f"<purl>{escape(c['purl'])}</purl>")
            if c.get("properties"):
                x.append("<properties>" + "".join(f'<property name={quoteattr(p["name"])}>{escape(p["value"])}</property>' for p in c["properties"]) + "</properties>")
            s = "".join(x) + "</component>\n"
            f.write(s); size += len(s); i += 1
        f.write("  </components>\n</bom>\n")
if not have_mb("sbom.spdx"):
    seed = json.load(open(f"{out}/seed.spdx-json"))
    items = seed["packages"]
    with open(f"{out}/sbom.spdx", "w") as f:
        f.write(f'SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: {seed["name"]}\n'
                f'DocumentNamespace: {seed["documentNamespace"]}\nCreator: Tool: vigil\nCreated: {seed["creationInfo"]["created"]}\n')
        size, i = 0, 0
        while size < sbom_mb * 1_000_000:
            p = spdx(dict(items[i % len(items)]), i // len(items))
            x = [f'\nPackageName: {p["name"]}', f'SPDXID: {p["SPDXID"]}']
            if p.get("versionInfo"): x.append(f'PackageVersion: {p["versionInfo"]}')
            x.append(f'PackageDownloadLocation: {p.get("downloadLocation", "NOASSERTION")}')
            x.append("FilesAnalyzed: false")
            if p.get("sourceInfo"): x.append(f'PackageSourceInfo: <text>{p["sourceInfo"]}</text>')
            x.append(f'PackageLicenseConcluded: {p.get("licenseConcluded", "NOASSERTION")}')
            x.append(f'PackageLicenseDeclared: {p.get("licenseDeclared", "NOASSERTION")}')
            x.append(f'PackageCopyrightText: {p.get("copyrightText", "NOASSERTION")}')
            if p.get("primaryPackagePurpose"): x.append(f'PrimaryPackagePurpose: {p["primaryPackagePurpose"]}')
            if p.get("comment"): x.append(f'PackageComment: <text>{p["comment"]}</text>')
            for r in p.get("externalRefs", []):
                x.append(f'ExternalRef: {r["referenceCategory"]} {r["referenceType"]} {r["referenceLocator"]}')
            # As Vigil writes them: the document describes the image, which contains every package.
            x.append(f'Relationship: SPDXRef-DOCUMENT DESCRIBES {p["SPDXID"]}' if i == 0 else f'Relationship: {image} CONTAINS {p["SPDXID"]}')
            if i == 0: image = p["SPDXID"]
            s = "\n".join(x) + "\n"
            f.write(s); size += len(s); i += 1

# Reports for publish: the corpus package databases' findings and packages,
# replicated with numbered package names, under an image digest (so the
# server stores the findings), streamed out: ~16 MB and ~63 MB (under the
# server's default 16 MiB body cap and a raised 64 MiB one) and PUBLISH_MB
# (default 480; the client's cap is 512 MiB).
def report(name, target):
    if have(name, target):
        return
    r = json.load(open(f"{out}/seed-report.json"))
    vulns, pkgs = r["vulnerabilities"], r["packages"]
    r["artifact"]["name"] = "registry.example.com/bench/api:1"
    r["artifact"]["digest"] = "sha256:" + "ab" * 32
    r["packages"], r["vulnerabilities"] = [], []
    head, tail = json.dumps(r).split('"packages": [], "vulnerabilities": []', 1)
    # A finding is ~2.5 times a package: one package per three findings
    # keeps the seed's proportions of bytes.
    with open(f"{out}/{name}", "w") as f:
        f.write(head + '"packages": [')
        size, i = 0, 0
        while size < target // 5:
            p = pkgs[i % len(pkgs)]
            s = json.dumps(dict(p, name=f'{p["name"]}-{i // len(pkgs)}'))
            f.write(("," if i else "") + s); size += len(s) + 1; i += 1
        f.write('], "vulnerabilities": [')
        i = 0
        while size < target:
            v = dict(vulns[i % len(vulns)]); n = i // len(vulns)
            v["package"] = dict(v["package"], name=f'{v["package"]["name"]}-{n}')
            s = json.dumps(v)
            f.write(("," if i else "") + s); size += len(s) + 1; i += 1
        f.write("]" + tail)
report("report.json", 16_000_000)
report("report-63mb.json", 63_000_000)
report("report-big.json", publish_mb * 1_000_000)
PY
rss() { # label, vigil args...
  local label=$1; shift
  /usr/bin/time -v "$bin" "$@" >/dev/null 2>"$out/time.txt" || true
  printf '%-34s %8s KB  %s\n' "$label" "$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$out/time.txt")" "$(grep -m1 '^vigil:' "$out/time.txt" || true)"
}
ls -l "$out"/policy.yaml "$out"/openvex.json "$out"/vex.cdx.json "$out"/trivyignore* "$out"/grype.yaml "$out"/allowlist.yaml "$out"/sbom.* "$out"/report*.json | awk '{print $5, $9}'
uptime
if [ "${ONLY:-}" != publish ]; then  # ONLY=publish measures only publish
  scan=(image "$rootfs" --format json --output "$out/scan.out" --checks=false --secrets=false)
  rss "no inputs" "${scan[@]}"
  rss "policy (.vigil.yaml ~7.9MB)" "${scan[@]}" --policy "$out/policy.yaml"
  rss "OpenVEX (~63MB)" "${scan[@]}" --vex "$out/openvex.json"
  rss "CycloneDX VEX (~63MB)" "${scan[@]}" --vex "$out/vex.cdx.json"
  rss ".trivyignore (~7.9MB)" "${scan[@]}" --ignorefile "$out/trivyignore"
  rss ".trivyignore.yaml (~7.9MB)" "${scan[@]}" --ignorefile "$out/trivyignore.yaml"
  rss ".grype.yaml (~7.9MB)" "${scan[@]}" --grype-config "$out/grype.yaml"
  rss "allow-list (~7.9MB)" "${scan[@]}" --allowlist "$out/allowlist.yaml"
  for f in cyclonedx-json spdx-json json cyclonedx-xml spdx; do
    rss "sbom-scan $f (~${sbom_mb}MB)" sbom-scan "$out/sbom.$f" --format json --output "$out/scan.out" --exit-code 0
  done
fi
# The client's side of publish: to a sink that reads and drops the body
# and answers 201 (the report near the client's cap is far above what a
# server accepts by default).
sinkport=${SINK_PORT:-18932}
python3 - "$sinkport" >"$out/sink.log" 2>&1 <<'PY' &
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # answers Expect: 100-continue
    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        while left > 0:
            left -= len(self.rfile.read(min(left, 1 << 20)))
        body = b'{"id":"sink"}'
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
sinkpid=$!
pids=$sinkpid
trap 'kill $pids 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$sinkport/" && break; sleep 0.2; done
for r in report.json report-63mb.json report-big.json; do
  rss "publish $r ($(( $(stat -c %s "$out/$r") / 1000000 ))MB)" publish "$out/$r" --server "http://127.0.0.1:$sinkport" --fail-on-publish-error
done
# The server's side of publish: peak RSS (VmHWM) of `vigil serve` (SQLite)
# before and after it takes a report on POST /api/v1/scans, at the
# default 16 MiB body cap and at --max-body 64MiB (a fresh server each).
serve_case() { # label, report, serve args...
  local label=$1 rep=$2; shift 2
  local srv=$out/server port=${SERVE_PORT:-18931}
  rm -rf "$srv" && mkdir -p "$srv"
  local tok
  tok=$("$bin" token create --data-dir "$srv" --tenant bench --scope ingest 2>/dev/null | tail -1)
  "$bin" serve --data-dir "$srv" --listen "127.0.0.1:$port" "$@" >"$srv/log" 2>&1 &
  local spid=$!
  pids="$sinkpid $spid"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  local idle
  idle=$(awk '/VmHWM/ {print $2}' "/proc/$spid/status")
  "$bin" publish "$out/$rep" --server "http://127.0.0.1:$port" --token "$tok" --fail-on-publish-error >"$srv/publish.out" 2>&1 || echo "publish to serve failed: $(cat "$srv/publish.out")" >&2
  printf '%-34s %8s KB  (idle %s KB)\n' "$label" "$(awk '/VmHWM/ {print $2}' "/proc/$spid/status")" "$idle"
  kill $spid; wait $spid 2>/dev/null || true
}
serve_case "serve, POST of report ~16MB" report.json
serve_case "serve --max-body 64MiB, ~63MB" report-63mb.json --max-body 64MiB
