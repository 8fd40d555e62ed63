package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/vuln"
	"github.com/vigil-scan/vigil/internal/vuln/vulntest"
)

// readZipEntry returns one record of a corpus OSV dump.
func readZipEntry(t *testing.T, eco, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(corpus.Path(t, "feeds", "osv", eco, "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			data, err := readEntry(f)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
	t.Fatalf("%s not in %s/all.zip", name, eco)
	return nil
}

func TestParseCorpusRecords(t *testing.T) {
	tests := []struct {
		eco, file    string
		wantEco      string
		wantPkg      string
		wantFix      vuln.FixState
		wantSeverity string
		wantSymbol   string
		wantAlias    string
		wantCVSS     string
	}{
		{"Go", "GO-2022-0535.json", "Go", "stdlib", vuln.FixStateFixed, "", "Certificate.systemVerify", "CVE-2020-0601", ""},
		{"crates.io", "RUSTSEC-2020-0024.json", "crates.io", "tough", vuln.FixStateFixed, "", "", "CVE-2020-15093", "3.1"},
		{"AlmaLinux", "ALSA-2024:8793.json", "AlmaLinux:9", "thunderbird", vuln.FixStateFixed, vuln.SeverityMedium, "", "", ""},
		{"PyPI", "PYSEC-2017-105.json", "PyPI", "apache-atlas", vuln.FixStateNotFixed, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			v, affs, err := Parse(readZipEntry(t, tt.eco, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if v.ID+".json" != tt.file || len(affs) == 0 {
				t.Fatalf("id %q, %d affected", v.ID, len(affs))
			}
			a := affs[0]
			if a.Ecosystem != tt.wantEco || (tt.wantPkg != "" && a.Package != tt.wantPkg) || a.FixState != tt.wantFix || a.VulnID != v.ID {
				t.Errorf("affected %+v", a)
			}
			if a.Severity != tt.wantSeverity {
				t.Errorf("severity %q, want %q", a.Severity, tt.wantSeverity)
			}
			if tt.wantSymbol != "" && !contains(a.Symbols, tt.wantSymbol) {
				t.Errorf("symbols %v lack %s", a.Symbols, tt.wantSymbol)
			}
			if tt.wantAlias != "" && !contains(v.Aliases, tt.wantAlias) {
				t.Errorf("aliases %v lack %s", v.Aliases, tt.wantAlias)
			}
			if tt.wantCVSS != "" && (len(v.CVSS) == 0 || v.CVSS[0].Version != tt.wantCVSS || v.CVSS[0].Score == 0) {
				t.Errorf("cvss %+v, want version %s", v.CVSS, tt.wantCVSS)
			}
			if !strings.HasPrefix(v.Source, "osv:") {
				t.Errorf("source %q", v.Source)
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestParseEdgeCases(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	rec, err := ParseRecord(read("null-fields.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Affected) != 1 || rec.Affected[0].Package != "some-crate" || rec.Affected[0].FixState != vuln.FixStateFixed {
		t.Errorf("null fields: %+v", rec.Affected)
	}

	rec, err = ParseRecord(read("mixed-ranges.json"))
	if err != nil {
		t.Fatal(err)
	}
	// gitonly (GIT range, no versions) and the nameless entry are dropped.
	if len(rec.Affected) != 2 {
		t.Fatalf("affected %+v", rec.Affected)
	}
	py := rec.Affected[0]
	if py.Package != "django-rest-framework" || len(py.Ranges) != 1 || py.Ranges[0].Events[1].LastAffected != "1.4" ||
		py.FixState != vuln.FixStateNotFixed || py.Severity != vuln.SeverityMedium {
		t.Errorf("pypi entry %+v", py)
	}
	if u := rec.Affected[1]; u.Ecosystem != "Ubuntu:22.04" || len(u.Versions) != 1 {
		t.Errorf("ubuntu entry %+v", u)
	}
	if len(rec.Vulnerability.CVSS) != 2 || rec.Vulnerability.CVSS[0].Version != "3.0" || rec.Vulnerability.CVSS[1].Version != "4.0" {
		t.Errorf("cvss %+v", rec.Vulnerability.CVSS)
	}
	if len(rec.Vulnerability.Aliases) != 1 || !rec.Vulnerability.Published.IsZero() || rec.Vulnerability.Modified.IsZero() {
		t.Errorf("vulnerability %+v", rec.Vulnerability)
	}
	joined := strings.Join(rec.Warnings, "\n")
	if !strings.Contains(joined, `"WEIRD"`) || !strings.Contains(joined, "published") {
		t.Errorf("warnings %q", joined)
	}

	if v, _, err := Parse(read("non-utf8.json")); err != nil || v.ID == "" {
		t.Errorf("non-UTF-8: %+v %v", v, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string][]byte{
		"not json":  []byte("{"),
		"no id":     []byte(`{"summary":"x"}`),
		"array":     []byte(`[]`),
		"too large": bytes.Repeat([]byte(" "), MaxRecordSize+1),
	}
	for name, data := range tests {
		if _, _, err := Parse(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWithdrawn(t *testing.T) {
	v, affs, err := Parse([]byte(`{"id":"X-1","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"a"},"versions":["1"]}]}`))
	if err != nil || v.Withdrawn.IsZero() || len(affs) != 0 {
		t.Fatalf("%+v %v %v", v, affs, err)
	}
}

func TestImportZipCorpus(t *testing.T) {
	tests := []struct {
		eco                string
		records, withdrawn int
	}{
		{"Go", 4291 - 17, 17},
		{"PyPI", 2661 - 10, 10},
		{"crates.io", 1206 - 13, 13},
		{"AlmaLinux", 5637, 0},
	}
	for _, tt := range tests {
		t.Run(tt.eco, func(t *testing.T) {
			f, err := os.Open(corpus.Path(t, "feeds", "osv", tt.eco, "all.zip"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			var sink vulntest.Sink
			st, err := ImportZip(context.Background(), f, fi.Size(), &sink)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != tt.records || st.Withdrawn != tt.withdrawn || st.Skipped != 0 || len(sink.Vulns) != tt.records {
				t.Errorf("stats %+v (first warnings %q), sink got %d", st, st.Warnings[:min(3, len(st.Warnings))], len(sink.Vulns))
			}
		})
	}
}

func TestImportZipMalformed(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	add("GOOD-1.json", `{"id":"GOOD-1","affected":[{"package":{"ecosystem":"npm","name":"Left-Pad"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`)
	add("BAD-1.json", `{"id":`)
	add("README.txt", `ignored`)
	zw.Close()
	var sink vulntest.Sink
	st, err := ImportZip(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), &sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 1 || st.Skipped != 1 || len(st.Warnings) != 1 || sink.Affects[0].Package != "left-pad" {
		t.Fatalf("stats %+v sink %+v", st, sink.Affects)
	}
	if _, err := ImportZip(context.Background(), bytes.NewReader([]byte("junk")), 4, &sink); err == nil {
		t.Fatal("garbage zip: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ImportZip(ctx, bytes.NewReader(buf.Bytes()), int64(buf.Len()), &sink); err == nil {
		t.Fatal("cancelled context: no error")
	}
}
