package feeds

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// enrichSink collects enrichment by CVE.
type enrichSink map[string]vuln.Enrichment

func (enrichSink) Vulnerability(vuln.Vulnerability) error { return nil }
func (enrichSink) Affected(vuln.Affected) error           { return nil }
func (s enrichSink) Enrich(cve string, e vuln.Enrichment) error {
	s[cve] = e
	return nil
}

func open(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestParseEPSS(t *testing.T) {
	for _, name := range []string{"epss.csv", "epss_scores-current.csv.gz"} {
		s := enrichSink{}
		n, err := ParseEPSS(context.Background(), open(t, name), s)
		if err != nil || n != 2 {
			t.Fatalf("%s: %d %v", name, n, err)
		}
		e := s["CVE-2020-0601"].EPSS
		if e == nil || e.Score != 0.94 || e.Percentile != 0.999 || e.Date != "2025-08-25" {
			t.Errorf("%s: %+v", name, e)
		}
	}
	bad := []string{"", "cve,epss\nCVE-1,0.1\n", "cve,epss,percentile\nCVE-1,x,0.1\n", "cve,epss,percentile\nCVE-1\n"}
	for _, in := range bad {
		if _, err := ParseEPSS(context.Background(), strings.NewReader(in), enrichSink{}); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseKEV(t *testing.T) {
	s := enrichSink{}
	n, err := ParseKEV(context.Background(), open(t, "kev.json"), s)
	if err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	if k := s["CVE-2020-0601"].KEV; k == nil || k.DateAdded != "2021-11-03" || k.DueDate != "2022-05-03" || k.KnownRansomwareCampaignUse != "Unknown" {
		t.Errorf("%+v", k)
	}
	for _, in := range []string{"", "[]", `{"title":"x"}`} {
		if _, err := ParseKEV(context.Background(), strings.NewReader(in), enrichSink{}); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseNVDPage(t *testing.T) {
	s := enrichSink{}
	n, total, err := ParseNVDPage(context.Background(), open(t, "nvd-page.json"), s)
	if err != nil || n != 2 || total != 2 {
		t.Fatalf("%d %d %v", n, total, err)
	}
	tests := []struct {
		cve, severity, firstVersion string
		vectors                     int
	}{
		{"CVE-2021-44228", vuln.SeverityCritical, "3.1", 2},
		{"CVE-1999-0001", vuln.SeverityMedium, "2.0", 1},
	}
	for _, tt := range tests {
		e := s[tt.cve]
		if e.NVDSeverity != tt.severity || len(e.CVSS) != tt.vectors || e.CVSS[0].Version != tt.firstVersion || e.CVSS[0].Source != "nvd" || e.CVSS[0].Score == 0 {
			t.Errorf("%s: %+v", tt.cve, e)
		}
	}
	if _, _, err := ParseNVDPage(context.Background(), bytes.NewReader([]byte("{")), s); err == nil {
		t.Error("truncated page: no error")
	}
}

func TestNVDMirrorPaging(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "nvd"), 0o755)
	data, _ := os.ReadFile(filepath.Join("testdata", "nvd-page.json"))
	os.WriteFile(filepath.Join(dir, "nvd", "page-0000.json"), data, 0o600)
	u := testUpdater(t, dir)
	res, err := u.Update(context.Background(), []string{"nvd"})
	if err != nil {
		t.Fatal(err)
	}
	if fr := resultOf(t, res, "nvd"); fr.Status != StatusUpdated || fr.Records != 2 {
		t.Fatalf("nvd: %+v", fr)
	}
}
