package scan

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/osv"
	"github.com/vigil-scan/vigil/internal/vuln"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// ghsaRecord is GHSA-shaped: no CVSS vector, only GitHub's label in
// database_specific.severity (a tiny fixture: the corpus has no GHSA dump).
const ghsaRecord = `{"id":"GHSA-xxxx-yyyy-zzzz","aliases":["CVE-2099-0001"],"summary":"test advisory",
"affected":[{"package":{"ecosystem":"PyPI","name":"example-lib"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}],
"database_specific":{"severity":"HIGH","github_reviewed":true}}`

// Findings with no vendor severity take the advisory's own CVSS vector
// (the real PYSEC record) or label (GHSA style) before UNKNOWN, and say
// which in severity_source.
func TestSeverityFromAdvisory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	b, err := vulndb.Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := osv.ParseRecord([]byte(ghsaRecord))
	if err != nil {
		t.Fatal(err)
	}
	if err := osv.Emit(rec, b.Feed("osv/PyPI")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	ghsaDB, err := vulndb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ghsaDB.Close()
	pypi := func(name, version string) inventory.Package {
		return inventory.Package{Type: inventory.TypePyPI, Ecosystem: "PyPI", Name: name, Version: version, Path: "site-packages"}
	}
	for _, tt := range []struct {
		name  string
		store vuln.Store
		pkg   inventory.Package
		id    string
		sev   string
		src   string
	}{
		{"PYSEC CVSS vector", feedDB(t, "osv/PyPI"), pypi("apache-atlas", "0.8"), "CVE-2016-8752", vuln.SeverityHigh, "cvss:3.0"},
		{"GHSA label", ghsaDB, pypi("example-lib", "1.0"), "CVE-2099-0001", vuln.SeverityHigh, "osv:PyPI"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs, _, err := match.New(tt.store, match.Options{}).Match(context.Background(), []inventory.Package{tt.pkg})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.ID == tt.id {
					if f.Severity != tt.sev || f.SeveritySource != tt.src {
						t.Errorf("%s: severity %s from %q, want %s from %q", f.ID, f.Severity, f.SeveritySource, tt.sev, tt.src)
					}
					return
				}
			}
			t.Fatalf("no finding %s in %d findings", tt.id, len(fs))
		})
	}
}
