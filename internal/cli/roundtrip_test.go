package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
)

var (
	corpusDBOnce sync.Once
	corpusDBDir  string
	corpusDBErr  string
)

// corpusDB imports the corpus's Debian advisory lists, Alpine secdb and
// crates.io OSV feed into a DB shared by the tests of this file.
func corpusDB(t *testing.T) map[string]string {
	t.Helper()
	feeds := corpus.Path(t, "feeds")
	corpusDBOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-cli-db-*")
		if err != nil {
			corpusDBErr = err.Error()
			return
		}
		corpusDBDir = dir
		env := map[string]string{"VIGIL_DB": filepath.Join(dir, "vigil.db"), "VIGIL_CACHE_DIR": dir}
		code, _, stderr := run(t, env, "", "db", "import", feeds) // whole: a scan refuses a DB missing configured feeds
		if code != 0 {
			corpusDBErr = stderr
		}
	})
	if corpusDBErr != "" {
		t.Fatal(corpusDBErr)
	}
	t.Cleanup(func() {}) // the directory is removed by TestMain's caller's temp cleanup
	return map[string]string{"VIGIL_DB": filepath.Join(corpusDBDir, "vigil.db"), "VIGIL_CACHE_DIR": t.TempDir()}
}

func TestDBSearch(t *testing.T) {
	env := corpusDB(t)
	code, out, stderr := run(t, env, "", "db", "search", "CVE-2021-3711")
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	for _, want := range []string{"RUSTSEC-2021-0097", "aliases: CVE-2021-3711", "Debian:10", "[0, 1.1.1d-0+deb10u7)", "DSA-4963-1", "openssl-src", "9.8"} {
		if !strings.Contains(out, want) {
			t.Errorf("search output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, env, "", "db", "search", "cve-2021-3711", "--ecosystem", "crates.io", "--format", "json")
	var res searchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
		t.Fatalf("json: %v (code %d)\n%s", err, code, out)
	}
	if len(res.Affected) != 1 || res.Affected[0].Package != "openssl-src" || len(res.Vulnerabilities) != 2 {
		t.Errorf("ecosystem filter: %+v", res)
	}
	code, out, _ = run(t, env, "", "db", "search", "openssl", "--ecosystem", "Debian")
	if code != 0 || !strings.Contains(out, "CVE-2019-1547") || !strings.Contains(out, "Debian:9") {
		t.Errorf("package search over every Debian release: code %d\n%s", code, out)
	}
	code, _, stderr = run(t, env, "", "db", "search", "no-such-package-xyz")
	if code != 1 || !strings.Contains(stderr, "no advisory and no package") {
		t.Errorf("unknown: code %d %q", code, stderr)
	}
}

func TestExplain(t *testing.T) {
	env := corpusDB(t)
	// libssl1.1 is built from openssl: Debian's records are keyed by the
	// source package, and a fixed version with +deb10uN is a backport.
	code, out, stderr := run(t, env, "", "explain", "--ecosystem", "Debian:10", "--package", "libssl1.1", "--source-package", "openssl", "--version", "1.1.1d-0+deb10u7", "--format", "json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	var ex match.Explanation
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]match.Verdict{}
	for _, v := range ex.Verdicts {
		verdicts[v.VulnID] = v
	}
	if v := verdicts["CVE-2022-2068"]; !v.Affected || v.Fix != "1.1.1n-0+deb10u3" || v.KeyKind != "source package" || v.Key != "openssl" || !strings.Contains(v.Rule, "[0, 1.1.1n-0+deb10u3)") {
		t.Errorf("CVE-2022-2068: %+v", v)
	}
	if v := verdicts["CVE-2021-3711"]; v.Affected || !strings.Contains(v.Rule, "backports count") {
		t.Errorf("CVE-2021-3711 (fixed in deb10u7): %+v", v)
	}
	// One advisory, table form, through db search.
	code, out, _ = run(t, env, "", "db", "search", "CVE-2021-3711", "--ecosystem", "crates.io", "--package", "openssl-src", "--version", "111.15.0+1.1.1k")
	if code != 0 || !strings.Contains(out, "RUSTSEC-2021-0097  yes") || !strings.Contains(out, "1 of 1 advisory records match") {
		t.Errorf("explain one advisory: code %d\n%s", code, out)
	}
	// Another release has its own records.
	code, out, _ = run(t, env, "", "explain", "--ecosystem", "Debian:11", "--package", "openssl", "--version", "1.1.1k-1+deb11u1", "--vuln", "CVE-2021-3711")
	if code != 0 || !strings.Contains(out, "CVE-2021-3711  no") {
		t.Errorf("Debian 11: code %d\n%s", code, out)
	}
	// The ecosystem is matched as the DB spells it; one the DB has no
	// records for is an error, not a silent "no finding".
	code, out, _ = run(t, env, "", "explain", "--ecosystem", "debian:11", "--package", "openssl", "--version", "1.1.1k-1+deb11u1", "--vuln", "CVE-2021-3711")
	if code != 0 || !strings.Contains(out, "(Debian:11)") || !strings.Contains(out, "CVE-2021-3711  no") {
		t.Errorf("lower-case debian:11: code %d\n%s", code, out)
	}
	code, _, stderr = run(t, env, "", "explain", "--ecosystem", "debain:11", "--package", "openssl", "--version", "1")
	if code != 2 || !strings.Contains(stderr, "--ecosystem debain:11: the DB has no advisory for this ecosystem") || !strings.Contains(stderr, "Debian:11") {
		t.Errorf("typo'd ecosystem: code %d %q", code, stderr)
	}
	for _, args := range [][]string{
		{"explain", "--ecosystem", "Debian", "--package", "openssl", "--version", "1"},
		{"explain", "--package", "openssl"},
		{"explain", "--ecosystem", "PyPI", "--package", "x", "--version", "1", "--format", "xml"},
	} {
		if code, _, stderr := run(t, env, "", args...); code != 2 || stderr == "" {
			t.Errorf("%q: code %d %q", args, code, stderr)
		}
	}
}

func writeJSONFile(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every format vigil image writes, from a saved report.
func TestConvertEveryFormat(t *testing.T) {
	in := writeJSONFile(t, reporttest.Report())
	dir := t.TempDir()
	args := []string{"convert", in}
	for _, f := range report.Formats() {
		args = append(args, "--format", f+"="+filepath.Join(dir, f))
	}
	if code, _, stderr := run(t, nil, "", args...); code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	for _, f := range report.Formats() {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
	// The JSON round-trips unchanged.
	var back result.Report
	b, _ := os.ReadFile(filepath.Join(dir, "json"))
	if err := json.Unmarshal(b, &back); err != nil || len(back.Vulnerabilities) != len(reporttest.Report().Vulnerabilities) {
		t.Errorf("json round trip: %v", err)
	}
	// A failed gate in the saved report does not fail convert.
	code, out, _ := run(t, nil, "", "convert", in)
	if code != 0 || !strings.Contains(out, "CVE-2019-5482") {
		t.Errorf("table: code %d\n%s", code, out)
	}
}

func TestConvertBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"schema_version\": \"1.0.0\",\n  oops\n}"), 0o600)
	other := writeJSONFile(t, map[string]any{"schema_version": "1.0.0", "tool": map[string]string{"name": "trivy"}, "artifact": map[string]string{"name": "x"}})
	future := writeJSONFile(t, map[string]any{"schema_version": "9.0.0", "tool": map[string]string{"name": "vigil"}, "artifact": map[string]string{"name": "x"}})
	inv := writeJSONFile(t, map[string]any{"schema_version": "1.0.0", "tool": map[string]string{"name": "vigil"}, "artifact": map[string]string{"name": "x"}, "packages": []any{}})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"convert", bad}, "bad.json"},
		{[]string{"convert", other}, "not a Vigil JSON report"},
		{[]string{"convert", future}, "schema 9.0.0"},
		{[]string{"convert", inv, "--format", "sarif"}, "is an inventory"},
		{[]string{"convert", inv, "--format", "nope"}, "nope"},
		{[]string{"convert", filepath.Join(dir, "missing.json")}, "missing.json"},
	} {
		code, _, stderr := run(t, nil, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: code %d stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
	if code, out, stderr := run(t, nil, "", "convert", inv, "--format", "spdx-json"); code != 0 || !strings.Contains(out, "SPDX") {
		t.Errorf("inventory to spdx: %d %s", code, stderr)
	}
}

// vigil sbom writes several formats at once, and sbom-scan reads Vigil's
// own JSON inventory and report back.
func TestSbomFormatsAndVigilJSONRoundTrip(t *testing.T) {
	env := corpusDB(t)
	dir := t.TempDir()
	ref := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	inv, cdx := filepath.Join(dir, "inv.json"), filepath.Join(dir, "app.cdx.json")
	code, out, stderr := run(t, env, "", "sbom", ref, "--format", "json="+inv, "--format", "cyclonedx-json="+cdx, "--format", "table")
	if code != 0 || !strings.Contains(out, "musl") {
		t.Fatalf("sbom: code %d %s\n%s", code, stderr, out)
	}
	if code, _, stderr := run(t, env, "", "sbom", ref, "--format", "sarif"); code != 2 || !strings.Contains(stderr, "sarif") {
		t.Errorf("sbom --format sarif: %d %q", code, stderr)
	}
	rep := filepath.Join(dir, "report.json")
	if code, _, stderr := run(t, env, "", "image", ref, "--format", "json="+rep); code != 0 {
		t.Fatalf("image: %d %s", code, stderr)
	}
	var want result.Report
	b, _ := os.ReadFile(rep)
	json.Unmarshal(b, &want)
	for _, in := range []string{inv, rep, cdx} {
		out := filepath.Join(dir, "rescan.json")
		code, _, stderr := run(t, env, "", "sbom-scan", in, "--format", "json="+out)
		if code != 0 {
			t.Fatalf("sbom-scan %s: %d %s", filepath.Base(in), code, stderr)
		}
		var got result.Report
		b, _ := os.ReadFile(out)
		json.Unmarshal(b, &got)
		if len(got.Packages) != len(want.Packages) || got.Artifact.OS.Version != "3.10.4" || len(got.Vulnerabilities) != len(want.Vulnerabilities) {
			t.Errorf("sbom-scan %s: %d packages, os %q, %d findings; image scan: %d, %d", filepath.Base(in), len(got.Packages), got.Artifact.OS.Version, len(got.Vulnerabilities), len(want.Packages), len(want.Vulnerabilities))
		}
		for i, p := range got.Packages {
			if in != cdx && (p.Ecosystem != want.Packages[i].Ecosystem || p.Layer == nil) {
				t.Errorf("%s: package %s ecosystem %q layer %v", filepath.Base(in), p.Name, p.Ecosystem, p.Layer)
			}
		}
	}
}

// The table fits COLUMNS when standard output is no terminal, and says
// what it shows in a header.
func TestTableWidthFromColumns(t *testing.T) {
	in := writeJSONFile(t, reporttest.Report())
	for _, cols := range []int{80, 120} {
		code, out, _ := run(t, map[string]string{"COLUMNS": strconv.Itoa(cols)}, "", "convert", in)
		if code != 0 || !strings.HasPrefix(out, "Image:      registry.example.com/team/app:1.4.2") || !strings.Contains(out, "OS:         Alpine Linux v3.10") {
			t.Fatalf("code %d\n%s", code, out)
		}
		// The OS and Python tables fit; the Go binary's table has a
		// pseudo-version wider than that, and ids and versions never wrap.
		fits, _, _ := strings.Cut(out, "usr/local/bin/app")
		for _, line := range strings.Split(fits, "\n") {
			// At 80 the OS table's ids and versions leave less than the
			// narrowest title column: it overflows rather than wrap an id.
			if n := utf8.RuneCountInString(line); n > cols && cols >= 120 && !strings.HasPrefix(line, "usr/lib/python3.7") {
				t.Errorf("COLUMNS=%d: line of %d: %q", cols, n, line)
			}
		}
		for _, id := range []string{"CVE-2019-5482", "CVE-2020-1967", "CVE-2022-41723", "GO-2021-0067"} {
			if !strings.Contains(out, " "+id+" ") {
				t.Errorf("COLUMNS=%d: id %s not whole on one line", cols, id)
			}
		}
		if cols == 80 && !strings.Contains(out, "\n"+strings.Repeat(" ", 72)+"buffer overflow") {
			t.Errorf("COLUMNS=80: title not wrapped:\n%s", out)
		}
	}
}

// Off a terminal, progress is a plain line per layer; -q prints nothing;
// --timeout stops the scan with exit 2 and writes no report.
func TestProgressQuietTimeout(t *testing.T) {
	env := corpusDB(t)
	ref := "docker-archive:" + corpus.Path(t, "images", "dive-test-docker-image.tar")
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	code, _, stderr := run(t, env, "", "image", ref, "--no-cache", "--format", "json="+out)
	if code != 0 || !strings.Contains(stderr, "vigil: layer 1/14 read") || !strings.Contains(stderr, "vigil: layer 14/14") {
		t.Errorf("progress lines: code %d\n%s", code, stderr)
	}
	code, _, stderr = run(t, env, "", "image", ref, "--no-cache", "-q", "--format", "json="+out)
	if code != 0 || stderr != "" {
		t.Errorf("-q: code %d, stderr %q", code, stderr)
	}
	os.Remove(out)
	code, _, stderr = run(t, env, "", "image", ref, "--no-cache", "--timeout", "1ns", "--format", "json="+out)
	if code != 2 || !strings.Contains(stderr, "--timeout 1ns reached; no report written") {
		t.Errorf("timeout: code %d %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a report was written after the timeout")
	}
	if code, _, stderr = run(t, env, "", "image", ref, "--timeout", "soon"); code != 2 || !strings.Contains(stderr, "timeout") {
		t.Errorf("bad --timeout: %d %q", code, stderr)
	}
}

func TestDBUpdateTimeout(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VIGIL_DB": filepath.Join(dir, "vigil.db"), "VIGIL_CACHE_DIR": dir}
	code, _, stderr := run(t, env, "", "db", "update", "--mirror", corpus.Path(t, "feeds"), "--feed", "osv", "--timeout", "1ns")
	if code != 2 || !strings.Contains(stderr, "--timeout 1ns reached") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
	if _, err := os.Stat(env["VIGIL_DB"]); err == nil {
		t.Error("a DB was installed by an update stopped at --timeout")
	}
}
