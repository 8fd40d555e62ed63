package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/vuln"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

func TestDBImportAndStatus(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VIGIL_DB": filepath.Join(dir, "vigil.db"), "VIGIL_CACHE_DIR": dir}
	code, _, stderr := run(t, env, "", "db", "import", corpus.Path(t, "feeds"), "--feed", "osv/crates.io", "--feed", "kev")
	if code != 0 || !strings.Contains(stderr, "osv/crates.io") {
		t.Fatalf("import: code %d stderr %q", code, stderr)
	}
	code, stdout, stderr := run(t, env, "", "db", "status", "--format", "json")
	if code != 0 {
		t.Fatalf("status: code %d stderr %q", code, stderr)
	}
	var st dbStatus
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatal(err)
	}
	src, ok := st.Source("osv/crates.io")
	if st.SchemaVersion != vulndb.SchemaVersion || !ok || src.Records != 1193 || !strings.HasPrefix(src.Digest, "sha256:") {
		t.Fatalf("status %+v", st)
	}
	code, stdout, _ = run(t, env, "", "db", "status")
	if code != 0 || !strings.Contains(stdout, "kev") || !strings.Contains(stdout, "SOURCE") {
		t.Fatalf("table status: %d %q", code, stdout)
	}
}

func TestDBStatusNoDB(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run(t, map[string]string{"VIGIL_CACHE_DIR": dir}, "", "db", "status", "--db", filepath.Join(dir, "none.db"))
	if code != ExitScanFailed || !strings.Contains(stderr, "vigil db update") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

func TestDBUpdateFrom(t *testing.T) {
	// Build a small DB to serve.
	src := filepath.Join(t.TempDir(), "served.db")
	b, err := vulndb.Create(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	b.AddSource(vulndb.SourceInfo{Name: "test"})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(src)
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	var downloads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/db/metadata":
			fmt.Fprintf(w, `{"schema_version":%d,"built":"2026-01-02T03:04:05Z","digest":%q,"size":%d}`, vulndb.SchemaVersion, digest, len(data))
		case "/api/v1/db/vigil.db":
			downloads.Add(1)
			w.Write(data)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"VIGIL_CACHE_DIR": dir}
	dbPath := filepath.Join(dir, "installed.db")
	// An older prebuilt DB and the temp files of killed runs.
	prebuilt := filepath.Join(dir, "db", "prebuilt")
	os.MkdirAll(prebuilt, 0o755)
	oldDB := filepath.Join(prebuilt, fmt.Sprintf("%064x.db", 7))
	stale := []string{filepath.Join(prebuilt, "x.db.tmp-1"), dbPath + ".tmp-2"}
	for _, p := range append([]string{oldDB}, stale...) {
		os.WriteFile(p, []byte("old"), 0o644)
		old := time.Now().Add(-time.Hour)
		os.Chtimes(p, old, old)
	}
	for i, want := range []string{"downloaded", "installed from cache"} {
		code, _, stderr := run(t, env, "", "db", "update", "--from", srv.URL, "--db", dbPath)
		if code != 0 || !strings.Contains(stderr, want) {
			t.Fatalf("run %d: code %d stderr %q", i, code, stderr)
		}
	}
	if downloads.Load() != 1 {
		t.Fatalf("%d downloads, want 1 (second run uses the cache)", downloads.Load())
	}
	if left, _ := filepath.Glob(filepath.Join(prebuilt, "*")); len(left) != 1 || filepath.Base(left[0]) != digest[len("sha256:"):]+".db" {
		t.Errorf("prebuilt cache holds %q, want only the current DB", left)
	}
	if _, err := os.Stat(stale[1]); err == nil {
		t.Errorf("%s left behind", stale[1])
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestDBUpdateFromBadDigest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/db/metadata" {
			fmt.Fprintf(w, `{"schema_version":%d,"digest":"sha256:%064x"}`, vulndb.SchemaVersion, 1)
			return
		}
		w.Write([]byte("tampered"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	code, _, stderr := run(t, map[string]string{"VIGIL_CACHE_DIR": dir}, "", "db", "update", "--from", srv.URL, "--db", filepath.Join(dir, "x.db"))
	if code != ExitScanFailed || !strings.Contains(stderr, "does not match") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("a tampered DB was installed")
	}
}

// Flag mistakes fail before any DB is opened or feed fetched.
func TestDBFlagErrors(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VIGIL_CACHE_DIR": dir}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "status", "--format", "yaml", "--db", filepath.Join(dir, "none.db")}, `--format "yaml"`},
		{[]string{"db", "update", "--from", "http://127.0.0.1:1", "--feed", "kev"}, "[feed from]"},
		{[]string{"db", "update", "--from", "http://127.0.0.1:1", "--mirror", dir}, "[from mirror]"},
	} {
		code, _, stderr := run(t, env, "", tc.args...)
		if code != ExitScanFailed || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: code %d stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestDBImportRefusesShrunkFeed: a DSA list cut to half its advisories is
// held back (exit 2, previous rows kept) until --accept-shrink.
func TestDBImportRefusesShrunkFeed(t *testing.T) {
	dir := t.TempDir()
	feedsDir := filepath.Join(dir, "feeds")
	list := filepath.Join(feedsDir, "debian", "DSA-list")
	os.MkdirAll(filepath.Dir(list), 0o755)
	full, err := os.ReadFile(corpus.Path(t, "feeds", "debian", "DSA-list"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(list, full, 0o644)
	env := map[string]string{"VIGIL_DB": filepath.Join(dir, "vigil.db"), "VIGIL_CACHE_DIR": dir}
	if code, _, stderr := run(t, env, "", "db", "import", feedsDir, "--feed", "debian/dsa"); code != 0 {
		t.Fatalf("first import: %d %q", code, stderr)
	}
	half := full[:len(full)/2]
	os.WriteFile(list, half[:strings.LastIndex(string(half), "\n[")+1], 0o644)
	code, _, stderr := run(t, env, "", "db", "import", feedsDir, "--feed", "debian/dsa")
	if code != ExitScanFailed || !strings.Contains(stderr, "held-back") || !strings.Contains(stderr, "--accept-shrink") {
		t.Fatalf("shrunk import: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := run(t, env, "", "db", "import", feedsDir, "--feed", "debian/dsa", "--max-shrink", "60%"); code != 0 {
		t.Fatalf("--max-shrink 60%%: code %d stderr %q", code, stderr)
	}
	if code, _, stderr := run(t, env, "", "db", "import", feedsDir, "--max-shrink", "150%"); code != ExitScanFailed || !strings.Contains(stderr, "out of range") {
		t.Fatalf("--max-shrink 150%%: code %d stderr %q", code, stderr)
	}
}

// TestFeedURLCredentialsNeverShown: a mirror URL with user information and
// a token parameter is used for the downloads, but neither the log, the
// summary, `db status` (table and JSON) nor the DB file holds them, also
// when a feed fails and its error quotes the URL.
func TestFeedURLCredentialsNeverShown(t *testing.T) {
	files := http.FileServer(http.Dir(corpus.Path(t, "feeds")))
	var sawToken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u == "bob" && p == "hunter2" && r.URL.Query().Get("token") == "sekret" {
			sawToken.Store(true)
		}
		if strings.HasPrefix(r.URL.Path, "/kev/") {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	mirror := strings.Replace(srv.URL, "http://", "http://bob:hunter2@", 1) + "/?token=sekret"
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "vigil.db")
	env := map[string]string{"VIGIL_DB": dbPath, "VIGIL_CACHE_DIR": dir}
	code, stdout, stderr := run(t, env, "", "--log-level", "debug", "db", "update", "--mirror", mirror, "--feed", "osv/crates.io", "--feed", "kev")
	if code != ExitScanFailed || !sawToken.Load() || !strings.Contains(stderr, "403") {
		t.Fatalf("update: code %d, credentials sent %v, stderr %q", code, sawToken.Load(), stderr)
	}
	outputs := stdout + stderr
	for _, args := range [][]string{{"db", "status"}, {"db", "status", "--format", "json"}} {
		_, so, se := run(t, env, "", args...)
		outputs += so + se
	}
	if !strings.Contains(outputs, "REDACTED") {
		t.Errorf("no redacted URL shown: %q", outputs)
	}
	raw, _ := os.ReadFile(dbPath)
	for _, secret := range []string{"hunter2", "sekret", "bob:"} {
		if strings.Contains(outputs, secret) {
			t.Errorf("%q printed: %q", secret, outputs)
		}
		if strings.Contains(string(raw), secret) {
			t.Errorf("%q stored in the DB", secret)
		}
	}
	// --from: the prebuilt server's credentials do not show in its errors.
	_, so, se := run(t, env, "", "db", "update", "--from", "http://bob:hunter2@127.0.0.1:1/?token=sekret", "--retry-delay", "1ms")
	if strings.Contains(so+se, "hunter2") || strings.Contains(so+se, "sekret") {
		t.Errorf("--from error: %q", so+se)
	}
}

// TestDBStatusVerify: a sound DB verifies; the same file with a page
// overwritten fails with the damage named and exit 2.
func TestDBStatusVerify(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "vigil.db")
	env := map[string]string{"VIGIL_DB": dbPath, "VIGIL_CACHE_DIR": dir}
	if code, _, stderr := run(t, env, "", "db", "import", corpus.Path(t, "feeds"), "--feed", "osv/crates.io"); code != 0 {
		t.Fatalf("import: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, env, "", "db", "status", "--verify"); code != 0 || !strings.Contains(stderr, "verified") {
		t.Fatalf("sound DB: code %d stderr %q", code, stderr)
	}
	b, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite one page in the middle (the advisory rows; the metadata
	// sits in the first pages, so the DB still opens).
	const page = 4096
	mid := len(b) / page / 2 * page
	for i := mid; i < mid+page; i++ {
		b[i] = 0xA5
	}
	os.WriteFile(dbPath, b, 0o644)
	code, _, stderr := run(t, env, "", "db", "status", "--verify")
	if code != ExitScanFailed || !strings.Contains(stderr, "failed verification") || !strings.Contains(stderr, "sqlite:") {
		t.Fatalf("corrupt DB: code %d stderr %q", code, stderr)
	}
}

// TestReportOverDBRefused: a report aimed at the DB being read, by its
// path, a symlink or a hard link, with --format X=FILE or --output, is
// refused before the scan and the DB survives.
func TestReportOverDBRefused(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "vigil.db")
	b, err := vulndb.Create(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	b.AddSource(vulndb.SourceInfo{Name: "test"})
	// One record: a scan refuses a DB without any (feeds.CheckDB).
	if err := b.Affected(vuln.Affected{VulnID: "GO-0000-0001", Ecosystem: "Go", Package: "example.com/m", FixState: vuln.FixStateNotFixed}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	os.Symlink(dbPath, link)
	hard := filepath.Join(dir, "hard.json")
	os.Link(dbPath, hard)
	env := map[string]string{"VIGIL_DB": dbPath, "VIGIL_CACHE_DIR": dir}
	image := "dir:" + corpus.Path(t, "pkgdb", "apk", "trivy-alpine")
	for _, args := range [][]string{
		{"image", image, "--format", "json=" + dbPath},
		{"image", image, "--format", "sarif=" + link},
		{"image", image, "--format", "json", "--output", hard},
		{"image", image, "--format", "table", "--format", "json=" + filepath.Join(dir, ".", "vigil.db")},
		{"sbom-scan", writeReport(t), "--format", "json=" + dbPath},
	} {
		code, _, stderr := run(t, env, "", args...)
		if code != ExitScanFailed || !strings.Contains(stderr, "is the vulnerability DB this scan reads") {
			t.Errorf("%q: code %d stderr %q", args, code, stderr)
		}
	}
	db, err := vulndb.Open(dbPath)
	if err != nil {
		t.Fatalf("DB damaged: %v", err)
	}
	db.Close()
	// Another file in the same directory is fine.
	if code, _, stderr := run(t, env, "", "image", image, "--format", "json="+filepath.Join(dir, "report.json")); code != 0 {
		t.Errorf("ordinary report: code %d stderr %q", code, stderr)
	}
}

// TestDBUpdateNothingFetchedSaysWhatToDo: when no feed can be fetched (an
// offline runner, a mirror that is not laid out like the feed hosts) the
// error names the next step, and no DB is written.
func TestDBUpdateNothingFetchedSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "vigil.db")
	env := map[string]string{"VIGIL_DB": dbPath, "VIGIL_CACHE_DIR": dir, "VIGIL_FEED_KEV_URL": "http://127.0.0.1:1/kev.json"}
	code, _, stderr := run(t, env, "", "db", "update", "--feed", "kev", "--retry-delay", "1ms")
	if code != ExitScanFailed || !strings.Contains(stderr, "offline?") || !strings.Contains(stderr, "VIGIL_FEEDS_MIRROR") || !strings.Contains(stderr, "--from") {
		t.Fatalf("no mirror: code %d stderr %q", code, stderr)
	}
	// Offline, every feed fails the same way: one line, not one per feed.
	env["VIGIL_FEED_EPSS_URL"] = "http://127.0.0.1:1/epss.csv.gz"
	code, _, stderr = run(t, env, "", "db", "update", "--feed", "kev", "--feed", "epss", "--retry-delay", "1ms", "-q")
	if code != ExitScanFailed || !strings.Contains(stderr, "all 2 feeds failed: host unreachable (e.g. ") || strings.Count(stderr, "\n") > 4 {
		t.Fatalf("two unreachable feeds: code %d stderr %q", code, stderr)
	}
	empty := t.TempDir()
	code, _, stderr = run(t, env, "", "db", "update", "--feed", "kev", "--mirror", empty)
	if code != ExitScanFailed || !strings.Contains(stderr, "check that the mirror "+empty+" is laid out like the feed hosts") {
		t.Fatalf("empty mirror: code %d stderr %q", code, stderr)
	}
	if _, err := os.Stat(dbPath); err == nil {
		t.Error("a DB was written although no feed was fetched")
	}
}

// A report is not written over the image archive or SBOM the command reads
// (`vigil sbom docker-archive:app.tar -o app.tar` replaced the image), by
// any name; the input is left intact.
func TestReportOverInputRefused(t *testing.T) {
	dir := t.TempDir()
	img, _ := imagetest.SecretConfigImage(t)
	archive := strings.TrimPrefix(imagetest.WriteDockerArchive(t, img, "acme/app:1.0"), "docker-archive:")
	before, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.tar")
	os.Symlink(archive, link)
	sbom := filepath.Join(dir, "app.cdx.json")
	dbPath := filepath.Join(dir, "vigil.db")
	b, err := vulndb.Create(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	b.AddSource(vulndb.SourceInfo{Name: "test"})
	if err := b.Affected(vuln.Affected{VulnID: "GO-0000-0001", Ecosystem: "Go", Package: "example.com/m", FixState: vuln.FixStateNotFixed}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIGIL_DB": dbPath, "VIGIL_CACHE_DIR": dir}
	if code, _, stderr := run(t, env, "", "sbom", "docker-archive:"+archive, "--format", "cyclonedx-json="+sbom); code != 0 {
		t.Fatalf("sbom: %d %s", code, stderr)
	}
	sbomBefore, _ := os.ReadFile(sbom)
	for _, args := range [][]string{
		{"sbom", "docker-archive:" + archive, "--format", "json=" + archive},
		{"sbom", archive, "--output", link},
		{"lint", "docker-archive:" + archive, "--format", "json=" + link},
		{"image", "docker-archive:" + archive, "--format", "json=" + archive},
		{"sbom-scan", sbom, "--format", "json=" + sbom},
	} {
		code, _, stderr := run(t, env, "", args...)
		if code != ExitScanFailed || !strings.Contains(stderr, "is the input this command reads") {
			t.Errorf("%q: code %d stderr %q", args, code, stderr)
		}
	}
	if after, _ := os.ReadFile(archive); !bytes.Equal(after, before) {
		t.Error("the image archive was overwritten")
	}
	if after, _ := os.ReadFile(sbom); !bytes.Equal(after, sbomBefore) {
		t.Error("the SBOM was overwritten")
	}
}
