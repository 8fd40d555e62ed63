package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// TestVerifyInvariants: a DB whose metadata disagrees with its rows, or
// that holds rows of an unlisted feed, fails Verify; a consistent one
// passes.
func TestVerifyInvariants(t *testing.T) {
	ctx := context.Background()
	build := func(records int, ghost bool) []string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "v.db")
		b, err := Create(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		a := vuln.Affected{VulnID: "CVE-2024-0001", Ecosystem: "Go", Package: "x"}
		if err := b.Feed("osv/Go").Affected(a); err != nil {
			t.Fatal(err)
		}
		if ghost {
			b.Feed("ghost").Affected(a)
		}
		b.AddSource(SourceInfo{Name: "osv/Go", Records: records})
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		problems, err := db.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return problems
	}
	if p := build(1, false); len(p) != 0 {
		t.Errorf("consistent DB: %q", p)
	}
	p := build(5, true)
	if len(p) != 2 || !strings.Contains(p[0], "ghost") || !strings.Contains(p[1], "metadata says 5 records") {
		t.Errorf("inconsistent DB: %q", p)
	}
}

// TestCreateRemovesStaleBuilds: a build killed earlier left a temp file; the
// next Create removes it, but not the file of a build still running.
func TestCreateRemovesStaleBuilds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.db")
	running, err := Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer running.Abort()
	dead := path + ".tmp-killed"
	old := time.Now().Add(-time.Hour)
	os.WriteFile(dead, []byte("half a DB"), 0o644)
	for _, p := range []string{dead, running.tmp} {
		os.Chtimes(p, old, old)
	}
	b, err := Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	if _, err := os.Stat(dead); err == nil {
		t.Error("stale temp file kept")
	}
	if _, err := os.Stat(running.tmp); err != nil {
		t.Errorf("the running build's file was removed: %v", err)
	}
}
