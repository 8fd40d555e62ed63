package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/jackc/pgx/v5"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
)

// pgURL is the PostgreSQL the suite also runs on (.ci/run starts it).
const pgURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// env is a running service over one database, with a real Distribution
// registry whose notifications go to it.
type env struct {
	t        *testing.T
	st       *store.Store
	opts     store.Options
	q        *jobs.Queue
	db       *jobs.CurrentDB
	srv      *httptest.Server
	admin    string
	regHost  string
	regID    string
	blobGets atomic.Int64
}

// openStore opens a fresh SQLite file, or a fresh PostgreSQL schema that is
// dropped after the test, so parallel runs never share state.
func openStore(t *testing.T, backend string) *store.Store {
	t.Helper()
	st, _ := openStoreOpts(t, backend)
	return st
}

// openStoreOpts is openStore that also returns the options, to open the
// same database again (another process).
func openStoreOpts(t *testing.T, backend string) (*store.Store, store.Options) {
	t.Helper()
	keys, err := store.LoadKeyring("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := store.Options{DataDir: t.TempDir(), Keys: keys}
	if backend == "postgres" {
		conn, err := pgx.Connect(context.Background(), pgURL)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("PostgreSQL at %s: %v", pgURL, err)
			}
			t.Skipf("no PostgreSQL at %s: %v", pgURL, err)
		}
		conn.Close(context.Background())
		b := make([]byte, 6)
		rand.Read(b)
		opts.URL, opts.Schema = pgURL, "vigil_test_"+hex.EncodeToString(b)
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), pgURL)
			if err == nil {
				c.Exec(context.Background(), "DROP SCHEMA "+opts.Schema+" CASCADE")
				c.Close(context.Background())
			}
		})
	}
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, opts
}

// feedMirror is a feeds mirror holding only the corpus's Alpine secdb for
// the given branches (the other feeds are skipped as "not in mirror").
func feedMirror(t *testing.T, branches ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range branches {
		if err := os.MkdirAll(filepath.Join(dir, "alpine-secdb"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(corpus.Path(t, "feeds", "alpine-secdb", b), filepath.Join(dir, "alpine-secdb", b)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// partialMirror is a feeds mirror whose Alpine v3.10 secdb starts empty;
// link adds one of the corpus's secdb files to it (a feed that gains
// advisories between refreshes).
func partialMirror(t *testing.T) (mirror string, link func(file string)) {
	t.Helper()
	mirror = t.TempDir()
	secdb := filepath.Join(mirror, "alpine-secdb", "v3.10")
	if err := os.MkdirAll(secdb, 0o755); err != nil {
		t.Fatal(err)
	}
	return mirror, func(f string) {
		t.Helper()
		if err := os.Symlink(corpus.Path(t, "feeds", "alpine-secdb", "v3.10", f), filepath.Join(secdb, f)); err != nil {
			t.Fatal(err)
		}
	}
}

func newEnv(t *testing.T, backend, mirror string) *env {
	t.Helper()
	return newEnvWith(t, backend, mirror, nil)
}

// newEnvWith is newEnv with a hook that sees the env (its store opened,
// nothing else yet) and its DB before the first refresh.
func newEnvWith(t *testing.T, backend, mirror string, hook func(*env, *jobs.CurrentDB)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t}
	e.st, e.opts = openStoreOpts(t, backend)
	dataDir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	e.db = &jobs.CurrentDB{Config: config.Config{DBPath: filepath.Join(dataDir, "db", "vigil.db"), CacheDir: dataDir, Mirror: mirror,
		Feeds: config.Feeds{Alpine: config.AlpineFeed{Branches: []string{"v3.10", "v3.11"}}}}, Logger: logger,
		Fetcher: &feeds.Fetcher{BaseDelay: time.Millisecond}}
	t.Cleanup(func() { e.db.Close() })
	if hook != nil {
		hook(e, e.db)
	}
	var err error
	e.q, err = jobs.New(ctx, jobs.Deps{Store: e.st, DB: e.db, Logger: logger, TempDir: t.TempDir()},
		jobs.Options{Work: true, Concurrency: 2, PollInterval: 50 * time.Millisecond, RetryBase: 200 * time.Millisecond, ScanAttempts: 3, Daily: -1, Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.q.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.q.Stop(c)
	})
	srv := server.New(server.Options{Store: e.st, Queue: e.q, DB: e.db, Logger: logger})
	e.srv = httptest.NewServer(srv)
	t.Cleanup(e.srv.Close)
	t.Cleanup(srv.Wait)
	e.admin, err = e.st.CreateToken(ctx, "acme", store.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startRegistry runs a real Distribution registry (in memory) that sends
// its notifications to the service, registered with secret.
func (e *env) startRegistry(secret string) {
	t := e.t
	var app atomic.Pointer[handlers.App]
	regSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet {
			e.blobGets.Add(1)
		}
		a := app.Load()
		if a == nil { // the backfill may come before the app is built
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		a.ServeHTTP(w, r)
	}))
	t.Cleanup(regSrv.Close)
	e.regHost = strings.TrimPrefix(regSrv.URL, "http://")
	var reg struct {
		ID string `json:"id"`
	}
	e.do("POST", "/api/v1/registries", e.admin, map[string]any{"name": "local", "url": regSrv.URL, "insecure": true, "webhook_secret": secret}, 201, &reg)
	e.regID = reg.ID
	cfg := &configuration.Configuration{Storage: configuration.Storage{"inmemory": configuration.Parameters{}}}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.Notifications.Endpoints = []configuration.Endpoint{{
		Name: "vigil", URL: e.srv.URL + "/api/v1/webhooks/distribution/" + reg.ID,
		Headers: http.Header{"Authorization": {"Bearer " + secret}}, Timeout: 5 * time.Second, Threshold: 5, Backoff: 200 * time.Millisecond,
	}}
	a := handlers.NewApp(context.Background(), cfg)
	app.Store(a)
	t.Cleanup(func() { a.Shutdown() })
}

// do sends a JSON request and decodes the answer, failing on another status.
func (e *env) do(method, path, token string, body any, want int, out any) []byte {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

// alpineImage is the corpus's Alpine 3.10 image; with vulnerable set, an
// upper layer replaces its apk database with the corpus's older one (busybox
// 1.24, sqlite 3.26, ...), which the 3.10 secdb has fixes for.
func alpineImage(t *testing.T, vulnerable bool) v1.Image {
	t.Helper()
	tarPath := filepath.Join(t.TempDir(), "alpine.tar")
	imagetest.Gunzip(t, corpus.Path(t, "images", "alpine-310.tar.gz"), tarPath)
	img, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !vulnerable {
		return img
	}
	db, err := os.ReadFile(corpus.Path(t, "pkgdb", "apk", "trivy-alpine", "lib", "apk", "db", "installed"))
	if err != nil {
		t.Fatal(err)
	}
	return imagetest.Build(t, img, nil, imagetest.Step{CreatedBy: "RUN apk add old", Created: time.Unix(1600000000, 0),
		Entries: []imagetest.Entry{{Name: "lib/apk/db/installed", Body: string(db), Mode: 0o644}}})
}

func (e *env) push(img v1.Image, ref string) string {
	e.t.Helper()
	imagetest.Push(e.t, img, e.regHost+"/"+ref)
	d, err := img.Digest()
	if err != nil {
		e.t.Fatal(err)
	}
	return d.String()
}

type imagePage struct {
	Items         []store.Image `json:"items"`
	NextPageToken string        `json:"next_page_token"`
}

// waitImage polls the API until the digest has the wanted status.
func (e *env) waitImage(digest, status string) store.Image {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var im store.Image
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/images/"+digest, nil)
		req.Header.Set("Authorization", "Bearer "+e.admin)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&im)
			resp.Body.Close()
			if resp.StatusCode == 200 && im.Status == status {
				return im
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("image %s did not reach %s: %+v", digest, status, im)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func forEachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) { fn(t, b) })
	}
}

func TestRegistryPushToFindings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, feedMirror(t, "v3.10"))
		e.startRegistry("s3cret")
		digest := e.push(alpineImage(t, true), "library/alpine:3.10")
		im := e.waitImage(digest, store.StatusScanned)
		if im.Repository != "library/alpine" || len(im.Tags) != 1 || im.Tags[0] != "3.10" || im.RegistryID != e.regID {
			t.Errorf("image: %+v", im)
		}
		if im.Counts.Total() == 0 || im.PushedAt == nil || im.LastEvaluatedAt == nil || im.DBBuiltAt == nil {
			t.Errorf("image without findings or times: %+v", im)
		}
		var fs struct {
			Items []store.Finding `json:"items"`
		}
		e.do("GET", "/api/v1/images/"+digest+"/findings", e.admin, nil, 200, &fs)
		if len(fs.Items) != im.Counts.Total() {
			t.Errorf("%d findings, counts say %d", len(fs.Items), im.Counts.Total())
		}
		for _, f := range fs.Items {
			if f.ID == "" || f.Package.Name == "" || f.State != store.StateOpen || f.FirstSeenAt.IsZero() || f.ResolvedAt != nil {
				t.Errorf("finding: %+v", f)
			}
		}
		// Filters and counts at every level.
		var page imagePage
		e.do("GET", "/api/v1/images?registry_id="+e.regID+"&severity=critical,high,medium,low,unknown&limit=1", e.admin, nil, 200, &page)
		if len(page.Items) != 1 || page.Items[0].Digest != digest {
			t.Errorf("filtered images: %+v", page)
		}
		e.do("GET", "/api/v1/images?cve="+fs.Items[0].ID, e.admin, nil, 200, &page)
		if len(page.Items) != 1 {
			t.Errorf("cve filter: %+v", page)
		}
		e.do("GET", "/api/v1/images?cve=CVE-0000-0000", e.admin, nil, 200, &page)
		if len(page.Items) != 0 {
			t.Errorf("unknown cve filter: %+v", page)
		}
		var regs struct {
			Items []store.Registry `json:"items"`
		}
		e.do("GET", "/api/v1/registries", e.admin, nil, 200, &regs)
		if len(regs.Items) != 1 || regs.Items[0].Counts != im.Counts || regs.Items[0].Unhealthy != 1 || regs.Items[0].HasPassword {
			t.Errorf("registries: %+v", regs.Items)
		}
		var repos struct {
			Items []store.Repository `json:"items"`
		}
		e.do("GET", "/api/v1/repositories?registry_id="+e.regID, e.admin, nil, 200, &repos)
		if len(repos.Items) != 1 || repos.Items[0].Counts != im.Counts {
			t.Errorf("repositories: %+v", repos.Items)
		}

		// A cluster reports it running; recommendations and exports.
		e.do("POST", "/api/v1/clusters/prod/running", e.admin, map[string]any{"images": []any{map[string]any{
			"namespace": "shop", "workload": "api", "container": "api", "image": e.regHost + "/library/alpine:3.10", "digest": digest}}}, 200, nil)
		e.do("GET", "/api/v1/images?running=true", e.admin, nil, 200, &page)
		if len(page.Items) != 1 || !page.Items[0].Running {
			t.Errorf("running filter: %+v", page.Items)
		}
		e.do("POST", "/api/v1/clusters/prod/running", e.admin, map[string]any{"images": []any{map[string]any{"digest": "latest"}}}, 400, nil)
		var recs struct {
			Items []store.Recommendation `json:"items"`
		}
		e.do("GET", "/api/v1/recommendations", e.admin, nil, 200, &recs)
		if len(recs.Items) != 1 || recs.Items[0].Healthy || len(recs.Items[0].Unhealthy) != 1 || recs.Items[0].Unhealthy[0].ID != e.regID {
			t.Errorf("recommendations: %+v", recs.Items)
		}
		csvOut := e.do("GET", "/api/v1/findings/export?format=csv", e.admin, nil, 200, nil)
		if n := strings.Count(string(csvOut), "\n"); n != im.Counts.Total()+1 {
			t.Errorf("CSV export: %d lines, want %d", n, im.Counts.Total()+1)
		}
		var exported struct {
			Items []store.Finding `json:"items"`
		}
		e.do("GET", "/api/v1/findings/export", e.admin, nil, 200, &exported)
		if len(exported.Items) != im.Counts.Total() {
			t.Errorf("JSON export: %d findings", len(exported.Items))
		}

		// The deployment gate, under the tenant's policy.
		var gate struct {
			Allowed bool     `json:"allowed"`
			Reasons []string `json:"reasons"`
		}
		ref := e.regHost + "/library/alpine@" + digest
		e.do("GET", "/api/v1/gate?threshold=unknown&image="+ref, e.admin, nil, 200, &gate)
		if gate.Allowed || len(gate.Reasons) == 0 {
			t.Errorf("gate with findings: %+v", gate)
		}
		e.do("GET", "/api/v1/gate?image="+e.regHost+"/x@sha256:"+strings.Repeat("d", 64), e.admin, nil, 200, &gate)
		if gate.Allowed {
			t.Errorf("unscanned image allowed")
		}
		var gateErr struct{ Error string }
		e.do("GET", "/api/v1/gate?image=alpine:latest", e.admin, nil, 400, &gateErr)
		if !strings.Contains(gateErr.Error, "not a tag") || !strings.Contains(gateErr.Error, "/api/v1/images?repository=") {
			t.Errorf("gate with a tag: %q does not say how to get the digest", gateErr.Error)
		}
		pol := "version: 1\nignore:\n"
		for _, f := range fs.Items {
			pol += "  - id: " + f.ID + "\n    reason: accepted in test\n"
		}
		req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/policy", strings.NewReader(pol))
		req.Header.Set("Authorization", "Bearer "+e.admin)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Fatalf("PUT policy: %v %v", resp, err)
		}
		e.do("GET", "/api/v1/gate?threshold=unknown&image="+ref, e.admin, nil, 200, &gate)
		if !gate.Allowed {
			t.Errorf("gate with every finding excepted: %+v", gate)
		}
		req, _ = http.NewRequest("PUT", e.srv.URL+"/api/v1/policy", strings.NewReader("ignore: [[["))
		req.Header.Set("Authorization", "Bearer "+e.admin)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 400 {
			t.Errorf("malformed policy: %v %v", resp, err)
		}

		// Tenancy and scopes: another tenant sees nothing and gets 404 for
		// this tenant's objects; no token 401; a read token cannot write.
		other, _ := e.st.CreateToken(context.Background(), "other", store.ScopeAdmin)
		e.do("GET", "/api/v1/images/"+digest, other, nil, 404, nil)
		e.do("GET", "/api/v1/images/"+digest+"/findings", other, nil, 404, nil)
		e.do("GET", "/api/v1/registries/"+e.regID, other, nil, 404, nil)
		e.do("DELETE", "/api/v1/registries/"+e.regID, other, nil, 404, nil)
		e.do("GET", "/api/v1/images", other, nil, 200, &page)
		if len(page.Items) != 0 {
			t.Errorf("other tenant sees images: %+v", page)
		}
		e.do("GET", "/api/v1/images", "", nil, 401, nil)
		e.do("GET", "/api/v1/images", "vgl_bogus_token", nil, 401, nil)
		reader, _ := e.st.CreateToken(context.Background(), "acme", store.ScopeRead)
		e.do("POST", "/api/v1/registries", reader, map[string]any{"name": "x", "url": "https://example.com"}, 403, nil)
		e.do("POST", "/api/v1/db/refresh", reader, nil, 403, nil)

		// The registry redelivers and an attacker replays: harmless.
		ev := map[string]any{"events": []any{map[string]any{"id": "replayed-1", "action": "push", "timestamp": time.Now(),
			"target": map[string]any{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": digest, "repository": "library/alpine", "tag": "3.10"}}}}
		var res map[string]int
		for i := 0; i < 3; i++ {
			e.do("POST", "/api/v1/webhooks/distribution/"+e.regID, "s3cret", ev, 202, &res)
		}
		if res["duplicates"] != 1 || res["scans"] != 0 {
			t.Errorf("replayed event: %v", res)
		}
		e.do("POST", "/api/v1/webhooks/distribution/"+e.regID, "wrong", ev, 401, nil)
		e.do("POST", "/api/v1/webhooks/distribution/reg_unknown", "s3cret", ev, 401, nil)
	})
}

func TestWebhookBadInput(t *testing.T) {
	e := newEnv(t, "sqlite", feedMirror(t, "v3.10"))
	e.startRegistry("hook")
	post := func(body string, ct string) int {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/webhooks/distribution/"+e.regID, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer hook")
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	v2 := "application/vnd.docker.distribution.events.v2+json"
	for _, c := range []struct {
		name, body, ct string
		want           int
	}{
		{"not json", "{", v2, 400},
		{"wrong type", `{"events": 5}`, v2, 400},
		{"bad digest", `{"events":[{"id":"a","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"md5:x","repository":"a"}}]}`, v2, 400},
		{"bad repository", `{"events":[{"id":"b","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","repository":"../etc"}}]}`, v2, 400},
		{"html content type", `{"events":[]}`, "text/html", 415},
		{"oversized", `{"events":[` + strings.Repeat(`{"id":"x","action":"pull","target":{}},`, 40000) + `{}]}`, v2, 413},
		{"blob events ignored", `{"events":[{"id":"c","action":"push","target":{"mediaType":"application/octet-stream","digest":"sha256:` + strings.Repeat("b", 64) + `","repository":"a"}}]}`, v2, 202},
		{"v1 media type", `{"events":[]}`, "application/vnd.docker.distribution.events.v1+json", 202},
	} {
		if got := post(c.body, c.ct); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	var page imagePage
	e.do("GET", "/api/v1/images", e.admin, nil, 200, &page)
	if len(page.Items) != 0 {
		t.Errorf("bad events stored images: %+v", page.Items)
	}
}

func TestRegistryDownIsRetriedAndVisible(t *testing.T) {
	e := newEnv(t, "sqlite", feedMirror(t, "v3.10"))
	var reg struct {
		ID string `json:"id"`
	}
	// A registry that answers garbage.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "<html>not a registry</html>")
	}))
	defer bad.Close()
	e.do("POST", "/api/v1/registries", e.admin, map[string]any{"name": "bad", "url": bad.URL, "webhook_secret": "k"}, 201, &reg)
	digest := "sha256:" + strings.Repeat("c", 64)
	ev := map[string]any{"events": []any{map[string]any{"id": "e1", "action": "push",
		"target": map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "repository": "team/app", "tag": "v1"}}}}
	e.do("POST", "/api/v1/webhooks/distribution/"+reg.ID, "k", ev, 202, nil)
	im := e.waitImage(digest, store.StatusFailed)
	if im.Error == "" {
		t.Errorf("failed image has no error: %+v", im)
	}
}

// A DB refresh that brings advisories re-evaluates the affected images from
// their stored layers, without one blob request to the registry; a tag
// moved to an image without the findings resolves them by replacement.
func TestRefreshReevaluatesWithoutPullAndReplacement(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		mirror, link := partialMirror(t)
		link("community.yaml")
		e := newEnv(t, backend, mirror)
		e.startRegistry("s")
		digest := e.push(alpineImage(t, true), "library/alpine:3.10")
		im := e.waitImage(digest, store.StatusScanned)
		if im.Counts.Total() != 0 {
			t.Fatalf("findings before the main secdb arrived: %+v", im.Counts)
		}
		before := e.blobGets.Load()
		link("main.yaml")
		e.do("POST", "/api/v1/db/refresh", e.admin, nil, 202, nil)
		deadline := time.Now().Add(60 * time.Second)
		for {
			var cur store.Image
			e.do("GET", "/api/v1/images/"+digest, e.admin, nil, 200, &cur)
			if cur.Counts.Total() > 0 {
				im = cur
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not re-evaluated after the refresh: %+v", cur)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got := e.blobGets.Load() - before; got != 0 {
			t.Errorf("re-evaluation fetched %d blobs", got)
		}

		// The tag moves to the clean image: the old image's findings are
		// resolved as replaced and it no longer counts.
		clean := e.push(alpineImage(t, false), "library/alpine:3.10")
		e.waitImage(clean, store.StatusScanned)
		deadline = time.Now().Add(30 * time.Second)
		for {
			var old store.Image
			e.do("GET", "/api/v1/images/"+digest, e.admin, nil, 200, &old)
			if old.Counts.Total() == 0 && old.ReplacedBy == clean {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("old image not resolved by replacement: %+v", old)
			}
			time.Sleep(100 * time.Millisecond)
		}
		var fs struct {
			Items []store.Finding `json:"items"`
		}
		e.do("GET", "/api/v1/images/"+digest+"/findings?state=replaced", e.admin, nil, 200, &fs)
		if len(fs.Items) != im.Counts.Total() || fs.Items[0].ResolvedAt == nil {
			t.Errorf("replaced findings: %d, want %d", len(fs.Items), im.Counts.Total())
		}
	})
}

// `vigil publish` payloads: stored once per Idempotency-Key, linked to the
// registry image with the same digest whichever arrives first.
func TestPublishedScanLinksToRegistryImage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, feedMirror(t, "v3.10"))
		e.startRegistry("s")
		img := alpineImage(t, true)
		d, _ := img.Digest()
		digest := d.String()
		ingest, _ := e.st.CreateToken(context.Background(), "acme", store.ScopeIngest)
		body := map[string]any{"version": "1", "image": map[string]any{"name": e.regHost + "/shop/api:1.4", "digest": digest},
			"trace": map[string]any{"provider": "github-actions", "workflow": "build", "run_id": "42", "run_url": "https://github.com/acme/shop/actions/runs/42",
				"repository": "acme/shop", "commit": "4f2a", "ref": "refs/heads/main"},
			"report": map[string]any{"schema_version": "1", "vulnerabilities": []any{}}}
		post := func(token string, want int) map[string]string {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/scans", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/vnd.vigil.scan.v1+json")
			req.Header.Set("Idempotency-Key", "k1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]string
			json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != want {
				t.Fatalf("POST /api/v1/scans: %d, want %d: %v", resp.StatusCode, want, out)
			}
			return out
		}
		first := post(ingest, 201)
		if again := post(ingest, 200); again["id"] != first["id"] {
			t.Errorf("retry got another id: %v vs %v", again, first)
		}
		reader, _ := e.st.CreateToken(context.Background(), "acme", store.ScopeRead)
		post(reader, 403)
		// The registry push arrives after the CI run.
		e.push(img, "shop/api:1.4")
		var page imagePage
		deadline := time.Now().Add(60 * time.Second)
		for {
			e.do("GET", "/api/v1/images?repository=shop/api", e.admin, nil, 200, &page)
			if len(page.Items) == 1 && page.Items[0].RegistryID == e.regID && page.Items[0].Status == store.StatusScanned {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("registry image not scanned: %+v", page)
			}
			time.Sleep(100 * time.Millisecond)
		}
		im := page.Items[0]
		if im.RegistryID != e.regID || len(im.CI) != 1 || im.CI[0].RunURL != "https://github.com/acme/shop/actions/runs/42" || im.CI[0].Commit != "4f2a" {
			t.Errorf("registry image not linked to the CI run: %+v", im)
		}
	})
}

// Harbor and ACR webhooks with their documented payloads drive scans,
// pulls and deletes of images in a registry (go-containerregistry's
// in-process registry stands for Harbor's and ACR's storage).
func TestHarborAndACRWebhooks(t *testing.T) {
	e := newEnv(t, "sqlite", feedMirror(t, "v3.10"))
	host := imagetest.Registry(t)
	var reg struct {
		ID string `json:"id"`
	}
	e.do("POST", "/api/v1/registries", e.admin, map[string]any{"name": "harbor", "url": "http://" + host, "webhook_secret": "hs"}, 201, &reg)
	img := alpineImage(t, true)
	imagetest.Push(t, img, host+"/library/nginx:latest")
	d, _ := img.Digest()
	digest := d.String()
	harbor := func(typ string) map[string]any {
		return map[string]any{"type": typ, "occur_at": 1680000000, "operator": "admin", "event_data": map[string]any{
			"resources":  []any{map[string]any{"digest": digest, "tag": "latest", "resource_url": host + "/library/nginx:latest"}},
			"repository": map[string]any{"date_created": 1680000000, "name": "nginx", "namespace": "library", "repo_full_name": "library/nginx", "repo_type": "public"}}}
	}
	e.do("POST", "/api/v1/webhooks/harbor/"+reg.ID, "hs", harbor("PUSH_ARTIFACT"), 202, nil)
	im := e.waitImage(digest, store.StatusScanned)
	if im.Repository != "library/nginx" || im.Counts.Total() == 0 {
		t.Errorf("harbor push: %+v", im)
	}
	var res map[string]int
	e.do("POST", "/api/v1/webhooks/harbor/"+reg.ID, "hs", harbor("PUSH_ARTIFACT"), 202, &res)
	if res["duplicates"] != 1 {
		t.Errorf("harbor redelivery: %v", res)
	}
	e.do("POST", "/api/v1/webhooks/harbor/"+reg.ID, "hs", harbor("PULL_ARTIFACT"), 202, nil)
	e.do("GET", "/api/v1/images/"+digest, e.admin, nil, 200, &im)
	if im.PulledAt == nil {
		t.Errorf("harbor pull not recorded: %+v", im)
	}
	e.do("POST", "/api/v1/webhooks/harbor/"+reg.ID, "hs", harbor("SCANNING_COMPLETED"), 202, nil)
	e.do("POST", "/api/v1/webhooks/harbor/"+reg.ID, "hs", map[string]any{"type": "PUSH_ARTIFACT", "event_data": map[string]any{"resources": []any{map[string]any{"digest": "bad"}}}}, 400, nil)
	e.do("POST", "/api/v1/webhooks/harbor/"+reg.ID, "", harbor("PUSH_ARTIFACT"), 401, nil)
	e.do("POST", "/api/v1/webhooks/harbor/"+reg.ID, "hs", harbor("DELETE_ARTIFACT"), 202, nil)
	var page imagePage
	e.do("GET", "/api/v1/images?repository=library/nginx", e.admin, nil, 200, &page)
	if len(page.Items) != 0 {
		t.Errorf("deleted image still listed: %+v", page.Items)
	}

	// ACR: push, then a manifest delete.
	imagetest.Push(t, img, host+"/hello-world:v1")
	acrPush := map[string]any{"id": "cb8c3971-9adc-488b-bdd8-43cbb4974ff5", "timestamp": "2017-11-17T16:52:01.343145347Z", "action": "push",
		"target":  map[string]any{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 524, "digest": digest, "length": 524, "repository": "hello-world", "tag": "v1"},
		"request": map[string]any{"id": "3cbb6949-7549-4fa1-86cd-a6d5451dffc7", "host": "myregistry.azurecr.io", "method": "PUT", "useragent": "docker/17.09.0-ce"}}
	e.do("POST", "/api/v1/webhooks/acr/"+reg.ID, "hs", acrPush, 202, &res)
	if res["accepted"] != 1 {
		t.Errorf("acr push: %v", res)
	}
	e.do("POST", "/api/v1/webhooks/acr/"+reg.ID, "hs", acrPush, 202, &res)
	if res["duplicates"] != 1 {
		t.Errorf("acr redelivery: %v", res)
	}
	e.do("GET", "/api/v1/images?repository=hello-world", e.admin, nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].Tags[0] != "v1" {
		t.Errorf("acr image: %+v", page.Items)
	}
	acrDelete := map[string]any{"id": "afc359ce-df7f-4e32-bce3-5c2e8c4b3c2d", "timestamp": "2017-11-17T16:54:01Z", "action": "delete",
		"target":  map[string]any{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": digest, "repository": "hello-world"},
		"request": map[string]any{"id": "2d7e5a2f", "host": "myregistry.azurecr.io", "method": "DELETE", "useragent": "python-requests/2.18.4"}}
	e.do("POST", "/api/v1/webhooks/acr/"+reg.ID, "hs", acrDelete, 202, nil)
	e.do("GET", "/api/v1/images?repository=hello-world", e.admin, nil, 200, &page)
	if len(page.Items) != 0 {
		t.Errorf("acr delete: %+v", page.Items)
	}
	e.do("POST", "/api/v1/webhooks/acr/"+reg.ID, "hs", map[string]any{"action": "quarantine"}, 202, nil)
	e.do("POST", "/api/v1/webhooks/acr/"+reg.ID, "hs", "not an object", 400, nil)
}
