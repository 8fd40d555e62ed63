package match

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/osv"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// storeSink loads real OSV dumps into a fakeStore.
type storeSink struct{ s *fakeStore }

func (k storeSink) Vulnerability(v vuln.Vulnerability) error { k.s.vuln(v); return nil }
func (k storeSink) Affected(a vuln.Affected) error {
	key := [2]string{a.Ecosystem, a.Package}
	k.s.affected[key] = append(k.s.affected[key], a)
	return nil
}
func (k storeSink) Enrich(string, vuln.Enrichment) error { return nil }

func loadOSV(t *testing.T, s *fakeStore, eco string) {
	t.Helper()
	path := corpus.Path(t, "feeds", "osv", eco, "all.zip")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := osv.ImportZip(context.Background(), f, fi.Size(), storeSink{s}); err != nil {
		t.Fatal(err)
	}
}

func find(fs []vuln.Finding, name, id string) *vuln.Finding {
	for i := range fs {
		if fs[i].Package.Name == name && fs[i].ID == id {
			return &fs[i]
		}
	}
	return nil
}

// TestRealOSVRecords matches packages against the real Go, PyPI and
// AlmaLinux OSV dumps of the corpus.
func TestRealOSVRecords(t *testing.T) {
	s := newFakeStore()
	for _, eco := range []string{"Go", "PyPI", "AlmaLinux"} {
		loadOSV(t, s, eco)
	}
	java := pkg(inventory.TypeRPM, "AlmaLinux:8", "java-21-openjdk-headless", "1:21.0.1.0.12-2.el8.alma.1")
	fs, warns := match(t, s, Options{},
		pkg(inventory.TypeGolang, "Go", "golang.org/x/text", "v0.3.5"),
		pkg(inventory.TypeGolang, "Go", "golang.org/x/text", "v0.3.8"),
		pkg(inventory.TypeGolang, "Go", "stdlib", "go1.15.2"),
		pkg(inventory.TypePyPI, "PyPI", "urllib3", "1.26.4"),
		pkg(inventory.TypePyPI, "PyPI", "urllib3", "1.26.18"),
		java,
	)
	t.Logf("%d findings, %d warnings", len(fs), len(warns))
	f := find(fs, "golang.org/x/text", "CVE-2021-38561")
	if f == nil || f.Package.Version != "v0.3.5" || !slices.Contains(f.Aliases, "GO-2021-0113") || f.Remediation != "go get golang.org/x/text@v0.3.7" {
		t.Errorf("x/text CVE-2021-38561: %+v", f)
	}
	for _, f := range fs {
		if f.Package.Name == "golang.org/x/text" && f.Package.Version == "v0.3.8" && f.ID == "CVE-2021-38561" {
			t.Errorf("fixed x/text v0.3.8 reported for %s", f.ID)
		}
	}
	stdlib := 0
	for _, f := range fs {
		if f.Package.Name == "stdlib" {
			stdlib++
			if f.FixState != vuln.FixStateFixed || f.Remediation == "" {
				t.Errorf("stdlib %s: %s %q", f.ID, f.FixState, f.Remediation)
			}
		}
	}
	if stdlib < 50 {
		t.Errorf("go1.15.2 stdlib: only %d findings", stdlib)
	}
	if f := find(fs, "urllib3", "CVE-2021-33503"); f == nil || f.Package.Version != "1.26.4" || f.FixedVersions[0] != "1.26.5" {
		t.Errorf("urllib3 CVE-2021-33503: %+v", f)
	}
	for _, cve := range []string{"CVE-2024-20918", "CVE-2024-20952", "CVE-2024-20919", "CVE-2024-20921", "CVE-2024-20945"} {
		if f := find(fs, java.Name, cve); f == nil || !slices.Contains(f.Aliases, "ALSA-2024:0248") || f.FixState != vuln.FixStateFixed {
			t.Errorf("java %s: %+v", cve, f)
		}
	}
}
