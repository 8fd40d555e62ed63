package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
)

// db publish to a real registry, then a first scan without a DB downloads
// it by itself, and db update --from oci:// installs it too.
func TestDBPublishAndFirstRunDownload(t *testing.T) {
	dir := t.TempDir()
	built := filepath.Join(dir, "built.db")
	env := map[string]string{"VIGIL_CACHE_DIR": filepath.Join(dir, "cache")}
	if code, _, stderr := run(t, env, "", "db", "import", corpus.Path(t, "feeds"), "--feed", "alpine", "--feed", "kev", "--db", built); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	ref := imagetest.Distribution(t) + "/security/vigil-db:1"
	code, stdout, stderr := run(t, env, "", "db", "publish", "--to", ref, "--insecure-registry", "--db", built)
	if code != 0 || !strings.HasPrefix(stdout, "sha256:") {
		t.Fatalf("publish: %d %q %s", code, stdout, stderr)
	}

	first := filepath.Join(dir, "first", "vigil.db")
	image := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	code, _, stderr = run(t, env, "", "image", image, "--db", first, "--db-repository", "oci://"+ref, "--db-insecure-registry", "--format", "json="+filepath.Join(dir, "r.json"))
	if code != 0 || !strings.Contains(stderr, "No vulnerability DB at "+first) || !strings.Contains(stderr, "DB ready") {
		t.Fatalf("first scan: %d %s", code, stderr)
	}
	if _, err := os.Stat(first); err != nil {
		t.Fatal(err)
	}
	// The DB is there now: no download.
	code, _, stderr = run(t, env, "", "image", image, "--db", first, "--db-repository", "oci://"+ref, "--db-insecure-registry", "--format", "json="+filepath.Join(dir, "r.json"))
	if code != 0 || strings.Contains(stderr, "No vulnerability DB") {
		t.Fatalf("second scan: %d %s", code, stderr)
	}

	env["VIGIL_DB"] = filepath.Join(dir, "updated.db")
	if code, _, stderr := run(t, env, "", "db", "update", "--from", "oci://"+ref, "--insecure-registry"); code != 0 || !strings.Contains(stderr, "installed from cache") {
		t.Fatalf("update --from oci: %d %s", code, stderr)
	}
}

func TestFirstRunWithoutDBSource(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "vigil.db")
	image := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	// Offline: every feed fails fast, one line each; no DB is left behind.
	env := map[string]string{"VIGIL_CACHE_DIR": dir, "VIGIL_FEEDS_MIRROR": "http://vigil-offline.invalid/feeds"}
	code, _, stderr := run(t, env, "", "image", image, "--db", db)
	if code != ExitScanFailed || !strings.Contains(stderr, "cannot resolve vigil-offline.invalid") || !strings.Contains(stderr, "getting the first DB") {
		t.Fatalf("offline first run: %d %s", code, stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a failed first download left a DB behind")
	}
	// --skip-db-update: the old error, no download attempt.
	code, _, stderr = run(t, env, "", "image", image, "--db", db, "--skip-db-update")
	if code != ExitScanFailed || strings.Contains(stderr, "getting one") || !strings.Contains(stderr, "vigil db update") {
		t.Fatalf("--skip-db-update: %d %s", code, stderr)
	}
	for _, bad := range []string{"ftp://x/db", "oci://"} {
		code, _, stderr = run(t, env, "", "image", image, "--db", db, "--db-repository", bad)
		if code != ExitScanFailed || !strings.Contains(stderr, "want oci://") {
			t.Errorf("--db-repository %s: %d %s", bad, code, stderr)
		}
	}
}
