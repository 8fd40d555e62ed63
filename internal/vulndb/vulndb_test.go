package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/osv"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// importZip builds a DB at path from OSV zips of the corpus.
func importZips(t testing.TB, path string, ecosystems ...string) map[string]osv.Stats {
	t.Helper()
	ctx := context.Background()
	b, err := Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	stats := map[string]osv.Stats{}
	for _, eco := range ecosystems {
		f, err := os.Open(corpus.Path(t, "feeds", "osv", eco, "all.zip"))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		st, err := osv.ImportZip(ctx, f, fi.Size(), b.Feed("osv/"+eco))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		stats[eco] = st
		b.AddSource(SourceInfo{Name: "osv/" + eco, Records: st.Records, Fetched: time.Now()})
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	return stats
}

func TestBuildAndLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	stats := importZips(t, path, "Go", "crates.io")
	if got := stats["Go"].Records + stats["Go"].Withdrawn + stats["Go"].Skipped; got != 4291 {
		t.Errorf("Go entries = %d, want 4291 (%+v)", got, stats["Go"])
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["osv/Go"].Vulnerabilities != stats["Go"].Records {
		t.Errorf("stored %d Go advisories, imported %d", counts["osv/Go"].Vulnerabilities, stats["Go"].Records)
	}
	tests := []struct {
		eco, pkg string
		wantID   string
	}{
		{"Go", "golang.org/x/net", "GO-2022-0192"},
		{"Go", "stdlib", "GO-2022-0535"},
		{"crates.io", "tough", "RUSTSEC-2020-0024"},
	}
	for _, tt := range tests {
		recs, err := db.Affected(ctx, tt.eco, tt.pkg)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range recs {
			if r.VulnID == tt.wantID {
				found = true
				if r.Ecosystem != tt.eco || r.Package != tt.pkg || len(r.Ranges) == 0 {
					t.Errorf("%s: bad record %+v", tt.wantID, r)
				}
			}
		}
		if !found {
			t.Errorf("Affected(%s, %s): %d records, none is %s", tt.eco, tt.pkg, len(recs), tt.wantID)
		}
	}
	v, err := db.Vulnerability(ctx, "GO-2022-0535")
	if err != nil || v == nil || len(v.Aliases) == 0 || v.Aliases[0] != "CVE-2020-0601" {
		t.Fatalf("Vulnerability(GO-2022-0535) = %+v, %v", v, err)
	}
	if v, err := db.Vulnerability(ctx, "NOPE-1"); v != nil || err != nil {
		t.Fatalf("unknown id: %+v %v", v, err)
	}
	if m := db.Metadata(); m.SchemaVersion != SchemaVersion || len(m.Sources) != 2 || m.Built.IsZero() {
		t.Fatalf("metadata %+v", m)
	}
}

func TestConcurrentLookups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	importZips(t, path, "crates.io")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				recs, err := db.Affected(context.Background(), "crates.io", "tough")
				if err != nil || len(recs) == 0 {
					t.Errorf("lookup: %d %v", len(recs), err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestMergeAndEnrich(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	ctx := context.Background()
	b, err := Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s := b.Feed("a")
	s.Vulnerability(vuln.Vulnerability{ID: "CVE-1", Summary: "short", Aliases: []string{"X"}})
	s.Vulnerability(vuln.Vulnerability{ID: "CVE-1", Summary: "a longer one", Aliases: []string{"Y", "X"}})
	b.Feed("b").Vulnerability(vuln.Vulnerability{ID: "CVE-1", References: []string{"https://b"}})
	s.Enrich("CVE-1", vuln.Enrichment{KEV: &vuln.KEV{DateAdded: "2024-01-01"}})
	s.Enrich("CVE-1", vuln.Enrichment{EPSS: &vuln.EPSS{Score: 0.5}})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Vulnerability(vuln.Vulnerability{ID: "late"}); err == nil {
		t.Fatal("write after commit must fail")
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := db.Vulnerability(ctx, "CVE-1")
	if v.Summary != "a longer one" || strings.Join(v.Aliases, ",") != "X,Y" || len(v.References) != 1 {
		t.Fatalf("merged %+v", v)
	}
	e, _ := db.Enrichment(ctx, "CVE-1")
	if e.KEV == nil || e.EPSS == nil || e.EPSS.Score != 0.5 {
		t.Fatalf("enrichment %+v", e)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, []byte(strings.Repeat("not sqlite ", 100)), 0o600)
	empty := filepath.Join(dir, "other.db")
	b, _ := Create(context.Background(), empty)
	b.Commit()
	wrongSchema := filepath.Join(dir, "v99.db")
	writeSchemaVersion(t, wrongSchema, 99)
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing.db"), "no vulnerability DB at"},
		{garbage, "vigil db update"},
		{wrongSchema, "schema version 99"},
		{dir, "is a directory"},
	}
	for _, tt := range tests {
		_, err := Open(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
	if db, err := Open(empty); err != nil {
		t.Errorf("empty DB: %v", err)
	} else {
		db.Close()
	}
}

func TestAbortLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	b, err := Create(context.Background(), filepath.Join(dir, "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	b.Vulnerability(vuln.Vulnerability{ID: "X"})
	b.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("abort left %v", ents)
	}
}
