package feeds

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// Records per OSV dump in the corpus (MANIFEST.md: 4291 Go, 2661 PyPI,
// 1206 crates.io, 5637 AlmaLinux) minus the withdrawn ones, which import
// skips (17 Go, 10 PyPI, 13 crates.io, counted with grep).
var wantOSV = map[string]int{"osv/Go": 4291 - 17, "osv/PyPI": 2661 - 10, "osv/crates.io": 1206 - 13, "osv/AlmaLinux": 5637}

func testUpdater(t *testing.T, mirror string) *Updater {
	t.Helper()
	dir := t.TempDir()
	return &Updater{
		Config:  config.Config{DBPath: filepath.Join(dir, "vigil.db"), CacheDir: dir, Mirror: mirror},
		Fetcher: &Fetcher{BaseDelay: time.Millisecond, TempDir: dir},
	}
}

func resultOf(t *testing.T, r Result, name string) FeedResult {
	t.Helper()
	for _, f := range r.Feeds {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no result for feed %s in %+v", name, r.Feeds)
	return FeedResult{}
}

func TestImportCorpusDir(t *testing.T) {
	u := testUpdater(t, corpus.Path(t, "feeds"))
	res, err := u.Update(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range wantOSV {
		fr := resultOf(t, res, name)
		if fr.Status != StatusUpdated || fr.Records != want {
			t.Errorf("%s: %+v, want %d records", name, fr, want)
		}
	}
	if fr := resultOf(t, res, "osv/npm"); fr.Status != StatusSkipped || fr.Warning != "not in mirror" {
		t.Errorf("osv/npm: %+v", fr)
	}
	if fr := resultOf(t, res, "kev"); fr.Status != StatusUpdated || fr.Records < 1000 {
		t.Errorf("kev: %+v", fr)
	}
	for _, name := range []string{"debian/dsa", "debian/dla"} {
		if fr := resultOf(t, res, name); fr.Status != StatusUpdated || fr.Records == 0 {
			t.Errorf("%s: %+v", name, fr)
		}
	}
	if fr := resultOf(t, res, "alpine/v3.10/main"); fr.Status != StatusUpdated || fr.Records == 0 {
		t.Errorf("alpine/v3.10/main: %+v", fr)
	}
	db, err := vulndb.Open(u.Config.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	lookups := []struct{ eco, pkg string }{
		{"Go", "golang.org/x/net"},
		{"PyPI", "django"},
		{"crates.io", "tough"},
		{"AlmaLinux:9", "thunderbird"},
		{"Alpine:v3.10", "openssl"},
	}
	for _, l := range lookups {
		recs, err := db.Affected(ctx, l.eco, l.pkg)
		if err != nil || len(recs) == 0 {
			t.Errorf("Affected(%s, %s) = %d records, %v", l.eco, l.pkg, len(recs), err)
		}
	}
	// GO-2022-0535 aliases CVE-2020-0601, which is in the KEV catalog.
	e, err := db.Enrichment(ctx, "CVE-2020-0601")
	if err != nil || e.KEV == nil || e.KEV.DateAdded == "" {
		t.Errorf("KEV enrichment of CVE-2020-0601: %+v %v", e, err)
	}
}

// countingServer serves dir and lets a test break chosen paths.
type countingServer struct {
	files      http.Handler
	conditonal atomic.Int32
	fail       func(path string) int // status to answer instead, 0 = serve
}

func (s *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
		s.conditonal.Add(1)
	}
	if s.fail != nil {
		if code := s.fail(r.URL.Path); code != 0 {
			http.Error(w, "broken", code)
			return
		}
	}
	s.files.ServeHTTP(w, r)
}

func TestUpdateOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the corpus twice")
	}
	cs := &countingServer{files: http.FileServer(http.Dir(corpus.Path(t, "feeds")))}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	u := testUpdater(t, srv.URL)
	ctx := context.Background()
	feeds := []string{"osv/Go", "osv/crates.io", "kev", "alpine/v3.10"}

	res, err := u.Update(ctx, feeds)
	if err != nil {
		t.Fatal(err)
	}
	if fr := resultOf(t, res, "osv/Go"); fr.Status != StatusUpdated || fr.Records != wantOSV["osv/Go"] {
		t.Fatalf("first update osv/Go: %+v", fr)
	}
	src, _ := res.Metadata.Source("osv/Go")
	if src.LastModified == "" || !strings.HasPrefix(src.Digest, "sha256:") {
		t.Fatalf("source info %+v", src)
	}

	// Second update: conditional requests, 304s, data kept.
	// crates.io answers 500 twice then recovers (retried);
	// kev fails permanently (previous data kept with a warning).
	var cratesCalls atomic.Int32
	cs.fail = func(p string) int {
		switch {
		case strings.HasSuffix(p, "/crates.io/all.zip") && cratesCalls.Add(1) <= 2:
			return http.StatusInternalServerError
		case strings.HasPrefix(p, "/kev/"):
			return http.StatusBadGateway
		}
		return 0
	}
	res, err = u.Update(ctx, feeds)
	if err != nil {
		t.Fatal(err)
	}
	if cs.conditonal.Load() == 0 {
		t.Error("second update sent no conditional request")
	}
	if fr := resultOf(t, res, "osv/Go"); fr.Status != StatusUnchanged || fr.Records != wantOSV["osv/Go"] {
		t.Errorf("second update osv/Go: %+v", fr)
	}
	if fr := resultOf(t, res, "osv/crates.io"); fr.Status != StatusUnchanged || cratesCalls.Load() != 3 {
		t.Errorf("crates.io after retries: %+v, %d calls", fr, cratesCalls.Load())
	}
	if fr := resultOf(t, res, "kev"); fr.Status != StatusKept || !strings.Contains(fr.Warning, "update failed") {
		t.Errorf("kev: %+v", fr)
	}
	db, err := vulndb.Open(u.Config.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts, _ := db.Counts(ctx)
	if counts["osv/Go"].Vulnerabilities != wantOSV["osv/Go"] || counts["kev"].Enrichments < 1000 || counts["alpine/v3.10/main"].Affected == 0 {
		t.Errorf("rows after second update: %+v", counts)
	}

	// New parsers: the unchanged feed is parsed again, not copied.
	cs.fail = nil
	parserVersion++
	defer func() { parserVersion-- }()
	res, err = u.Update(ctx, []string{"osv/Go"})
	if err != nil {
		t.Fatal(err)
	}
	if fr := resultOf(t, res, "osv/Go"); fr.Status != StatusUpdated || fr.Records != wantOSV["osv/Go"] {
		t.Errorf("osv/Go after a parser change: %+v, want it re-imported", fr)
	}
	if src, _ := res.Metadata.Source("osv/Go"); src.Parser != parserVersion {
		t.Errorf("parser version recorded = %d, want %d", src.Parser, parserVersion)
	}

	// Selecting one feed carries the others over.
	res, err = u.Update(ctx, []string{"osv/crates.io"})
	if err != nil {
		t.Fatal(err)
	}
	if fr := resultOf(t, res, "osv/Go"); fr.Status != StatusCarried {
		t.Errorf("unselected osv/Go: %+v", fr)
	}
}

func TestUpdateFailsWithoutPrevious(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Go/all.zip") {
			w.Write([]byte("this is not a zip file"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	u := testUpdater(t, srv.URL)
	res, err := u.Update(context.Background(), []string{"osv/Go", "osv/npm"})
	if !errors.Is(err, ErrNothingFetched) || !strings.Contains(err.Error(), "no DB was written") {
		t.Fatalf("every feed failed or was absent: %v", err)
	}
	if fr := resultOf(t, res, "osv/Go"); fr.Status != StatusFailed || !strings.Contains(fr.Warning, "zip") {
		t.Errorf("garbage zip: %+v", fr)
	}
	if !res.Failed() {
		t.Error("Failed() = false")
	}
	if _, err := os.Stat(u.Config.DBPath); err == nil {
		t.Error("an empty DB was written")
	}
	if _, err := u.Update(context.Background(), []string{"nope"}); err == nil || !strings.Contains(err.Error(), "unknown feed") {
		t.Errorf("unknown feed: %v", err)
	}
}
