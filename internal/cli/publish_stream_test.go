package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/publish"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
)

var (
	seedReportOnce sync.Once
	seedReportData []byte
	seedReportErr  string
)

// seedReport is the JSON report of a scan of every package database of
// the corpus (real packages and findings), made once per test binary.
func seedReport(t *testing.T) []byte {
	t.Helper()
	env := corpusDB(t)
	root := corpus.Path(t, "pkgdb")
	seedReportOnce.Do(func() {
		out := filepath.Join(t.TempDir(), "seed.json")
		code, _, stderr := run(t, env, "", "image", "dir:"+root, "--format", "json", "--output", out, "--exit-code", "0")
		if code != 0 {
			seedReportErr = stderr
			return
		}
		seedReportData, _ = os.ReadFile(out)
	})
	if seedReportErr != "" {
		t.Fatal(seedReportErr)
	}
	return seedReportData
}

// bigReport writes a report of about size bytes: the seed's packages and
// findings replicated with numbered package names, under an image digest
// (so the server stores the findings), and a config secret in the history
// that the payload must mask in every layer reference.
func bigReport(t *testing.T, size int) (path string, rep *result.Report) {
	t.Helper()
	var seed result.Report
	if err := json.Unmarshal(seedReport(t), &seed); err != nil {
		t.Fatal(err)
	}
	if len(seed.Packages) == 0 || len(seed.Vulnerabilities) == 0 {
		t.Fatalf("seed report: %d packages, %d findings", len(seed.Packages), len(seed.Vulnerabilities))
	}
	r := seed
	r.Artifact.Digest = "sha256:" + strings.Repeat("ab", 32)
	r.Artifact.Name = "registry.example.com/shop/api:1.4"
	r.Artifact.Config = &inventory.ImageConfig{Env: []string{"DEPLOY_TOKEN=" + publishTestSecret}}
	r.Packages, r.Vulnerabilities = nil, nil
	layers := []*inventory.LayerRef{
		{Index: 0, DiffID: "sha256:" + strings.Repeat("01", 32), CreatedBy: "/bin/sh -c #(nop) ADD file:base in /"},
		{Index: 1, DiffID: "sha256:" + strings.Repeat("02", 32), CreatedBy: "/bin/sh -c curl -H 'Token: " + publishTestSecret + "' https://example.com/app | sh"},
	}
	n := 0
	for total := 0; total < size; n++ {
		p := seed.Packages[n%len(seed.Packages)]
		p.Name = fmt.Sprintf("%s-%d", p.Name, n/len(seed.Packages))
		p.Layer = layers[n%2]
		r.Packages = append(r.Packages, p)
		f := seed.Vulnerabilities[n%len(seed.Vulnerabilities)]
		f.Package.Name = fmt.Sprintf("%s-%d", f.Package.Name, n/len(seed.Vulnerabilities))
		f.Layer = layers[(n+1)%2]
		r.Vulnerabilities = append(r.Vulnerabilities, f)
		pb, _ := json.Marshal(p)
		fb, _ := json.Marshal(f)
		total += len(pb) + len(fb)
	}
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, &r
}

// publishTestSecret is a config secret bigReport writes in clear (as a
// report from another tool could hold it) that no payload may carry.
const publishTestSecret = "Zq8vLk2mWp9xRt4sYb7n"

// realServer is the service's real handler on a SQLite store.
type realServer struct {
	*httptest.Server
	st    *store.Store
	dir   string
	token string
}

func newRealServer(t *testing.T, maxBody int64, wrap func(http.Handler) http.Handler) *realServer {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tok, err := st.CreateToken(context.Background(), "acme", store.ScopeIngest)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = server.New(server.Options{Store: st, MaxBody: maxBody})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &realServer{Server: srv, st: st, dir: dir, token: tok}
}

// storedReports are the reports the server stored, oldest first.
func (s *realServer) storedReports(t *testing.T) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.dir, "vigil-server.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT report FROM ci_runs ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		rows.Scan(&r)
		out = append(out, r)
	}
	return out
}

// storedFindings counts the findings the server keeps for digest.
func (s *realServer) storedFindings(t *testing.T, digest string) int {
	t.Helper()
	tenant, err := s.st.EnsureTenant(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	n, tok := 0, ""
	for {
		page, err := s.st.Findings(context.Background(), tenant.ID, store.FindingFilter{Digest: digest, Limit: store.MaxLimit, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if tok = page.NextPageToken; tok == "" {
			return n
		}
	}
}

// wantStored is what the server stored for a report before publishing
// was streamed: the payload's report (NewPayload redacts it), marshalled.
func wantStored(t *testing.T, rep *result.Report) string {
	t.Helper()
	b, err := json.Marshal(publish.NewPayload(rep, publish.Trace{}).Report)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPublishLargeReportStreamed: a 16 MB report made of real scan output
// is published by `vigil publish` to the real server handler (its body
// cap raised to 64 MiB); the server stores exactly the report and the
// findings the whole-payload client made it store, and a payload written
// from the file is the bytes json.Marshal(NewPayload(...)) gives.
func TestPublishLargeReportStreamed(t *testing.T) {
	path, rep := bigReport(t, 16<<20)
	u, err := publish.OpenReport(path, publish.Trace{})
	if err != nil {
		t.Fatal(err)
	}
	var streamed bytes.Buffer
	if _, err := u.WriteTo(&streamed); err != nil {
		t.Fatal(err)
	}
	whole, _ := json.Marshal(publish.NewPayload(rep, publish.Trace{}))
	if !bytes.Equal(streamed.Bytes(), whole) {
		t.Fatalf("streamed payload differs from the whole encoding (%d vs %d bytes)", streamed.Len(), len(whole))
	}
	if bytes.Contains(whole, []byte(publishTestSecret)) {
		t.Fatal("the payload holds the config secret")
	}
	if u.Size() != int64(len(whole)) {
		t.Fatalf("Size %d, body %d", u.Size(), len(whole))
	}
	streamed = bytes.Buffer{}

	srv := newRealServer(t, 64<<20, nil)
	env := map[string]string{"VIGIL_SERVER": srv.URL, "VIGIL_TOKEN": srv.token}
	code, _, stderr := run(t, env, "", "publish", path, "--fail-on-publish-error")
	if code != 0 || !strings.Contains(stderr, "published as ci_1: /api/v1/images/"+rep.Artifact.Digest) {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	stored := srv.storedReports(t)
	if len(stored) != 1 || stored[0] != wantStored(t, rep) {
		t.Fatalf("stored report differs from the payload's report (%d runs)", len(stored))
	}
	got := srv.storedFindings(t, rep.Artifact.Digest)

	// The same report posted whole, as the client did before, under
	// another digest: the same number of findings.
	rep2 := *rep
	rep2.Artifact.Digest = "sha256:" + strings.Repeat("cd", 32)
	c := &publish.Client{Server: srv.URL, Token: srv.token, Attempts: 1}
	if _, err := c.Publish(context.Background(), publish.NewPayload(&rep2, publish.Trace{})); err != nil {
		t.Fatal(err)
	}
	if want := srv.storedFindings(t, rep2.Artifact.Digest); got != want || got == 0 {
		t.Fatalf("streamed publish stored %d findings, whole publish %d", got, want)
	}
}

// TestPublishRetryResendsWholeBody: a 503 on the first attempt; the retry
// re-reads the file and sends every byte again, and the real handler
// stores the report.
func TestPublishRetryResendsWholeBody(t *testing.T) {
	path, rep := bigReport(t, 4<<20)
	var (
		mu     sync.Mutex
		bodies [][32]byte
		sizes  []int64
	)
	srv := newRealServer(t, 0, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, sha256.Sum256(b))
			sizes = append(sizes, r.ContentLength, int64(len(b)))
			first := len(bodies) == 1
			mu.Unlock()
			if first {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			h.ServeHTTP(w, r)
		})
	})
	env := map[string]string{"VIGIL_SERVER": srv.URL, "VIGIL_TOKEN": srv.token}
	code, _, stderr := run(t, env, "", "publish", path, "--fail-on-publish-error", "--publish-retry-delay", "1ms")
	if code != 0 || !strings.Contains(stderr, "published as") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if len(bodies) != 2 || bodies[0] != bodies[1] || sizes[0] != sizes[1] || sizes[2] != sizes[3] || sizes[0] != sizes[2] || sizes[0] < 4<<20 {
		t.Fatalf("attempts: %d, sizes (announced, read) %v", len(bodies), sizes)
	}
	if stored := srv.storedReports(t); len(stored) != 1 || stored[0] != wantStored(t, rep) {
		t.Fatalf("stored %d runs, or another report", len(stored))
	}
}

// TestPublishBadReportFiles: a file that is not a whole Vigil JSON report
// is refused with a clear error and nothing reaches the server.
func TestPublishBadReportFiles(t *testing.T) {
	path, _ := bigReport(t, 1<<20)
	good, _ := os.ReadFile(path)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"id":"x"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	for name, tt := range map[string]struct {
		body string
		want string
	}{
		"truncated":          {string(good[:len(good)*2/3]), "truncated or malformed JSON"},
		"cut after object":   {string(good[:len(good)-1]), "truncated or malformed JSON"},
		"array":              {`[` + string(good) + `]`, "not a JSON object"},
		"string":             {`"report"`, "not a JSON object"},
		"empty":              {``, "truncated or malformed JSON"},
		"trailing data":      {string(good) + `{}`, "data after the report"},
		"bad package":        {strings.Replace(string(good), `"packages":[{`, `"packages":[{"name":7,`, 1), "packages[0]"},
		"packages an object": {strings.Replace(string(good), `"packages":[`, `"packages":{"x":[`, 1), "truncated or malformed JSON"},
		"no artifact name":   {`{"schema_version":"1","artifact":{},"packages":[]}`, "no schema_version or artifact"},
		"two packages":       {`{"schema_version":"1","artifact":{"name":"a"},"packages":[],"Packages":[]}`, `two "packages" members`},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		os.WriteFile(p, []byte(tt.body), 0o600)
		code, _, stderr := run(t, map[string]string{"VIGIL_SERVER": srv.URL}, "", "publish", p)
		if code != ExitScanFailed || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: code %d stderr %q, want %q", name, code, stderr, tt.want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server got %d requests for bad files", n)
	}
	// A file above the client's cap is refused without being read (a
	// sparse file: no disk used).
	huge := filepath.Join(dir, "huge.json")
	if err := os.Truncate(huge, 0); err != nil {
		f, _ := os.Create(huge)
		f.Close()
	}
	if err := os.Truncate(huge, publish.MaxReportFile+1); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, map[string]string{"VIGIL_SERVER": srv.URL}, "", "publish", huge)
	if code != ExitScanFailed || !strings.Contains(stderr, "larger than 512 MiB") || hits.Load() != 0 {
		t.Fatalf("huge: code %d stderr %q", code, stderr)
	}
}

// TestPublishAboveServerCap: a report above the server's body cap gets the
// server's 413, which says what it accepts and which setting raises it,
// before the body is sent (the client waits for 100 Continue); it is not
// retried.
func TestPublishAboveServerCap(t *testing.T) {
	path, _ := bigReport(t, 3<<20)
	var attempts, bodyBytes atomic.Int64
	srv := newRealServer(t, 1<<20, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			attempts.Add(1)
			r.Body = readCounter{r.Body, &bodyBytes}
			h.ServeHTTP(w, r)
		})
	})
	env := map[string]string{"VIGIL_SERVER": srv.URL, "VIGIL_TOKEN": srv.token}
	code, _, stderr := run(t, env, "", "publish", path, "--fail-on-publish-error", "--publish-retry-delay", "1ms")
	if code != ExitScanFailed || !strings.Contains(stderr, "413") || !strings.Contains(stderr, "accepts at most 1 MiB") ||
		!strings.Contains(stderr, "--max-body") || !strings.Contains(stderr, "the payload is 3.") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if attempts.Load() != 1 || bodyBytes.Load() != 0 {
		t.Fatalf("%d attempts, %d body bytes read by the server", attempts.Load(), bodyBytes.Load())
	}
	if stored := srv.storedReports(t); len(stored) != 0 {
		t.Fatalf("stored %d runs", len(stored))
	}
}

// TestPublishAboveServerCapWhileSending: a server that finds the body too
// large only while reading it (an older server, or a chunked proxy in
// front) answers 413 mid-body; the client reports that answer, once.
func TestPublishAboveServerCapWhileSending(t *testing.T) {
	path, _ := bigReport(t, 8<<20)
	var attempts atomic.Int64
	srv := newRealServer(t, 1<<20, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			attempts.Add(1)
			r.ContentLength = -1 // the server does not look at the length
			h.ServeHTTP(w, r)
		})
	})
	env := map[string]string{"VIGIL_SERVER": srv.URL, "VIGIL_TOKEN": srv.token}
	code, _, stderr := run(t, env, "", "publish", path, "--fail-on-publish-error", "--publish-retry-delay", "1ms")
	if code != ExitScanFailed || !strings.Contains(stderr, "413") || !strings.Contains(stderr, "accepts at most 1 MiB") || attempts.Load() != 1 {
		t.Fatalf("code %d, %d attempts, stderr %q", code, attempts.Load(), stderr)
	}
}

type readCounter struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r readCounter) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}
