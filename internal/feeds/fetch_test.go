package feeds

import (
	"context"
	"errors"
	"fmt"
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

func TestFetchLocal(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kev.json")
	os.WriteFile(p, []byte(`{"vulnerabilities":[]}`), 0o600)
	f := &Fetcher{MaxSize: 10}
	ctx := context.Background()

	for _, loc := range []string{filepath.Join(dir, "missing"), "file://" + filepath.Join(dir, "missing")} {
		if _, err := f.Fetch(ctx, loc, Validators{}, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", loc, err)
		}
	}
	if _, err := f.Fetch(ctx, dir, Validators{}, nil); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := f.Fetch(ctx, p, Validators{}, nil); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("over MaxSize: %v", err)
	}
	f.MaxSize = 0
	doc, err := f.Fetch(ctx, "file://"+p, Validators{}, nil)
	if err != nil {
		t.Fatalf("file:// URL: %v", err)
	}
	doc.Close()
	if doc.Size != 22 || !strings.HasPrefix(doc.Digest, "sha256:") {
		t.Errorf("local document %+v", doc)
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.Path {
		case "/gone":
			w.WriteHeader(http.StatusGone)
		case "/forbidden":
			w.WriteHeader(http.StatusForbidden)
		case "/short":
			// Promise more than is sent: a truncated body is retried.
			w.Header().Set("Content-Length", "20")
			w.Write([]byte("truncated"))
		case "/big":
			w.Write([]byte(strings.Repeat("x", 64)))
		case "/busy":
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	f := &Fetcher{BaseDelay: time.Millisecond, Attempts: 2, MaxSize: 32}
	ctx := context.Background()
	tests := []struct {
		path, want string
		calls      int32
	}{
		{"/gone", "not found", 1},
		{"/forbidden", "403", 1},
		{"/short", "giving up after 2 attempts", 2},
		{"/big", "over the 32 byte limit", 1},
		{"/busy", "429", 2},
	}
	for _, tt := range tests {
		calls.Store(0)
		_, err := f.Fetch(ctx, srv.URL+tt.path, Validators{}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.path, err, tt.want)
		}
		if got := calls.Load(); got != tt.calls {
			t.Errorf("%s: %d requests, want %d", tt.path, got, tt.calls)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Fetch(cancelled, srv.URL+"/busy", Validators{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestUpdateUnconditional304: a server answering 304 to a request that
// carried no validators has nothing to fall back on; the feed fails
// instead of the whole update.
func TestUpdateUnconditional304(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	u := testUpdater(t, srv.URL)
	res, err := u.Update(context.Background(), []string{"kev"})
	if !errors.Is(err, ErrNothingFetched) {
		t.Fatalf("the only feed failed: %v", err)
	}
	if fr := resultOf(t, res, "kev"); fr.Status != StatusFailed || !strings.Contains(fr.Warning, "304") {
		t.Errorf("kev: %+v", fr)
	}
}

func TestUpdateRejectsBadLocation(t *testing.T) {
	u := testUpdater(t, "htps://mirror.example.com")
	if _, err := u.Update(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Errorf("mirror with a typo in the scheme: %v", err)
	}
	if _, err := os.Stat(u.Config.DBPath); err == nil {
		t.Error("a DB was written")
	}
}

func TestPrebuiltMetadataMalformed(t *testing.T) {
	var meta string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/db/metadata" {
			t.Errorf("fetched %s after bad metadata", r.URL.Path)
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(meta))
	}))
	defer srv.Close()
	good := strings.Repeat("ab", 32)
	tests := []struct{ body, want string }{
		{`not json`, "DB metadata from"},
		{`{"schema_version":1,"digest":"md5:abc"}`, "is not sha256:<hex>"},
		{`{"schema_version":1,"digest":"sha256:../../etc/passwd"}`, "is not sha256:<hex>"},
		{`{"schema_version":1,"digest":"sha256:abcd"}`, "is not sha256:<hex>"},
		{fmt.Sprintf(`{"schema_version":%d,"digest":"sha256:%s"}`, vulndb.SchemaVersion+1, good), "upgrade vigil"},
	}
	dir := t.TempDir()
	f := &Fetcher{BaseDelay: time.Millisecond}
	for _, tt := range tests {
		meta = tt.body
		_, _, err := f.InstallPrebuilt(context.Background(), srv.URL, dir, filepath.Join(dir, "vigil.db"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.body, err, tt.want)
		}
	}
}
