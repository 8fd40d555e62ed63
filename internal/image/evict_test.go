package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newLayerCache(Options{CacheDir: t.TempDir()}.withDefaults(), nil)
	ids := []string{"sha256:a", "sha256:b", "sha256:c", "sha256:d"}
	var size int64
	for i, id := range ids {
		r := &inventory.LayerResult{DiffID: id, Claimed: []string{strings.Repeat("x", 1000)}}
		if err := c.store(r); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(c.path(id))
		if err != nil {
			t.Fatal(err)
		}
		size = info.Size()
		old := time.Now().Add(-time.Duration(10-i) * time.Hour)
		os.Chtimes(c.path(id), old, old)
	}
	// Reading "a" makes it the most recently used.
	if r, err := c.load("sha256:a"); r == nil || err != nil {
		t.Fatal(r, err)
	}
	// A leftover temp file of a killed write, old enough to go.
	tmp := filepath.Join(filepath.Dir(c.path("sha256:a")), ".tmp-123")
	os.WriteFile(tmp, []byte("x"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(tmp, old, old)

	if err := c.evict(2*size, map[string]bool{c.path("sha256:b"): true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		kept bool
	}{{"sha256:a", true}, {"sha256:b", true}, {"sha256:c", false}, {"sha256:d", false}} {
		_, err := os.Stat(c.path(tc.id))
		if kept := err == nil; kept != tc.kept {
			t.Errorf("%s kept = %v, want %v", tc.id, kept, tc.kept)
		}
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("stale temp file kept")
	}
	// No cap.
	if err := c.evict(-1, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveStaleTemp(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	age := func(p string) {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	stale := filepath.Join(dir, "vigil-archive-1.tar")
	os.WriteFile(stale, []byte("x"), 0o644)
	age(stale)
	staleDir := filepath.Join(dir, "vigil-oci-1")
	os.MkdirAll(filepath.Join(staleDir, "blobs"), 0o755)
	age(staleDir)
	fresh := filepath.Join(dir, "vigil-archive-2.tar")
	os.WriteFile(fresh, []byte("x"), 0o644)
	other := filepath.Join(dir, "unrelated")
	os.WriteFile(other, []byte("x"), 0o644)
	age(other)
	// In use by a running scan, however old.
	inUse, release, err := createTemp(dir, "vigil-archive-*.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	age(inUse.Name())
	inUseDir, releaseDir, err := mkdirTemp(dir, "vigil-oci-*")
	if err != nil {
		t.Fatal(err)
	}
	defer releaseDir()
	age(inUseDir)

	removeStaleTemp(dir, Options{}.withDefaults().Logger)
	for p, want := range map[string]bool{stale: false, staleDir: false, fresh: true, other: true, inUse.Name(): true, inUseDir: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}
