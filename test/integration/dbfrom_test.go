package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/vulndb"
)

// `vigil db update --from URL`: a CI runner downloads the DB a Vigil server
// publishes, verifies it, caches it by digest (the second update does not
// download again) and refuses one whose digest does not match.
func TestDBUpdateFromServer(t *testing.T) {
	setup(t)
	data, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	var downloads atomic.Int32
	var tamper atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/db/metadata":
			d := digest
			if tamper.Load() {
				d = "sha256:" + strings.Repeat("0", 64)
			}
			json.NewEncoder(w).Encode(map[string]any{"schema_version": vulndb.SchemaVersion, "built": time.Now().UTC(), "digest": d, "size": len(data)})
		case "/api/v1/db/vigil.db":
			downloads.Add(1)
			w.Write(data)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	env := []string{"VIGIL_CACHE_DIR=" + filepath.Join(dir, "cache")}
	target := filepath.Join(dir, "runner.db")
	for i, want := range []string{"downloaded", "installed from cache"} {
		res := vigil(t, dir, env, "db", "update", "--from", srv.URL, "--db", target)
		if res.code != 0 || !strings.Contains(res.stderr, want) {
			t.Fatalf("update %d: want %q:\n%s", i+1, want, res)
		}
	}
	if n := downloads.Load(); n != 1 {
		t.Errorf("downloads = %d, want 1 (the second update uses the cache)", n)
	}
	// The installed DB works for a scan.
	res := vigil(t, dir, env, "image", "dir:"+dir, "--db", target, "--format", "json")
	if res.code != 0 {
		t.Errorf("scan with the downloaded DB:\n%s", res)
	}
	// A digest that does not match: no install, the old DB stays.
	tamper.Store(true)
	before, _ := os.ReadFile(target)
	res = vigil(t, dir, []string{"VIGIL_CACHE_DIR=" + filepath.Join(dir, "cache2")}, "db", "update", "--from", srv.URL, "--db", target)
	if res.code == 0 || !strings.Contains(res.stderr, "digest") {
		t.Errorf("tampered DB: want a digest error:\n%s", res)
	}
	after, _ := os.ReadFile(target)
	if string(before) != string(after) {
		t.Error("a failed download replaced the DB")
	}
}
