package vulndb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestNamesIndex: after enough lookups of unknown packages the DB answers
// them from its names index, and known packages still get their records.
func TestNamesIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	importZips(t, path, "crates.io")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for i := 0; i < namesAfterMisses; i++ {
		if recs, err := db.Affected(ctx, "crates.io", fmt.Sprintf("no-such-crate-%d", i)); err != nil || len(recs) != 0 {
			t.Fatalf("unknown crate: %d records, %v", len(recs), err)
		}
	}
	if !db.names.ready.Load() || len(db.names.hashes) == 0 {
		t.Fatal("names index not built")
	}
	if !db.names.absent("crates.io", "no-such-crate-x") || db.names.absent("crates.io", "tough") {
		t.Error("names index answers wrong")
	}
	recs, err := db.Affected(ctx, "crates.io", "tough")
	if err != nil || len(recs) == 0 {
		t.Fatalf("tough: %d records, %v", len(recs), err)
	}
	if recs, _ := db.Affected(ctx, "Go", "tough"); len(recs) != 0 {
		t.Errorf("tough in Go: %d records", len(recs))
	}
}
