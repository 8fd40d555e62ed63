package feeds

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// integrityFeeds are the feeds these tests break, one per format.
var integrityFeeds = []string{"debian/dsa", "alpine/v3.10/main", "osv/crates.io"}

// copyFeed copies a corpus feed file to the same place under dir.
func copyFeed(t *testing.T, dir string, elem ...string) string {
	t.Helper()
	b, err := os.ReadFile(corpus.Path(t, append([]string{"feeds"}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(append([]string{dir}, elem...)...)
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// mirrorCopy is a served copy of three corpus feeds that a test may damage.
type mirrorCopy struct {
	dir              string
	dsa, yaml, osvGo string
	u                *Updater
}

func newMirrorCopy(t *testing.T) *mirrorCopy {
	t.Helper()
	m := &mirrorCopy{dir: t.TempDir()}
	m.dsa = copyFeed(t, m.dir, "debian", "DSA-list")
	m.yaml = copyFeed(t, m.dir, "alpine-secdb", "v3.10", "main.yaml")
	m.osvGo = copyFeed(t, m.dir, "osv", "crates.io", "all.zip")
	srv := httptest.NewServer(http.FileServer(http.Dir(m.dir)))
	t.Cleanup(srv.Close)
	m.u = testUpdater(t, srv.URL)
	return m
}

func (m *mirrorCopy) update(t *testing.T) Result {
	t.Helper()
	res, err := m.u.Update(context.Background(), integrityFeeds)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// counts are the DB's rows per feed.
func (m *mirrorCopy) counts(t *testing.T) map[string]vulndb.FeedCounts {
	t.Helper()
	db, err := vulndb.Open(m.u.Config.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cut keeps the first half of a file, then backs up to just after the
// byte sep (or not at all when sep is 0).
func cut(t *testing.T, path string, sep string) {
	t.Helper()
	b, _ := os.ReadFile(path)
	half := b[:len(b)/2]
	if sep != "" {
		half = half[:bytes.LastIndex(half, []byte(sep))+1]
	}
	if err := os.WriteFile(path, half, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedFeedsKeepPreviousRows serves truncated and corrupted copies of
// real feeds over HTTP after a good import: each is rejected, its previous
// rows stay, and the result says so.
func TestDamagedFeedsKeepPreviousRows(t *testing.T) {
	tests := []struct {
		name       string
		feed       string
		damage     func(t *testing.T, m *mirrorCopy)
		wantStatus Status
		wantWarn   string
	}{
		{"DSA list cut mid-line", "debian/dsa", func(t *testing.T, m *mirrorCopy) { cut(t, m.dsa, "") }, StatusKept, "unterminated"},
		{"DSA list cut after a header", "debian/dsa", func(t *testing.T, m *mirrorCopy) {
			b, _ := os.ReadFile(m.dsa)
			i := bytes.Index(b[len(b)/2:], []byte("\n[")) + len(b)/2 + 1
			j := bytes.IndexByte(b[i:], '\n') + i + 1
			os.WriteFile(m.dsa, b[:j], 0o644)
		}, StatusKept, "no CVE or release lines"},
		{"DSA list cut between advisories", "debian/dsa", func(t *testing.T, m *mirrorCopy) { cut(t, m.dsa, "\n[") }, StatusHeld, "over the 10% limit"},
		{"secdb YAML cut mid-line", "alpine/v3.10/main", func(t *testing.T, m *mirrorCopy) { cut(t, m.yaml, "") }, StatusKept, "unterminated"},
		{"secdb YAML cut between packages", "alpine/v3.10/main", func(t *testing.T, m *mirrorCopy) { cut(t, m.yaml, "\n  - pkg:") }, StatusHeld, "over the 10% limit"},
		{"secdb YAML cut inside a package", "alpine/v3.10/main", func(t *testing.T, m *mirrorCopy) {
			b, _ := os.ReadFile(m.yaml)
			i := bytes.Index(b[len(b)/2:], []byte("secfixes:\n")) + len(b)/2
			os.WriteFile(m.yaml, b[:i+len("secfixes:\n")], 0o644)
		}, StatusKept, "no secfixes"},
		{"OSV zip truncated", "osv/crates.io", func(t *testing.T, m *mirrorCopy) { cut(t, m.osvGo, "") }, StatusKept, "zip"},
		{"OSV zip member fails its CRC", "osv/crates.io", func(t *testing.T, m *mirrorCopy) { corruptStoredMember(t, m.osvGo) }, StatusKept, "checksum error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMirrorCopy(t)
			first := m.update(t)
			if first.Rejected() || resultOf(t, first, tt.feed).Status != StatusUpdated {
				t.Fatalf("first import: %+v", first.Feeds)
			}
			before := m.counts(t)
			tt.damage(t, m)
			// A new Last-Modified, or a damage within the same second is
			// answered 304.
			later := time.Now().Add(time.Hour)
			for _, p := range []string{m.dsa, m.yaml, m.osvGo} {
				os.Chtimes(p, later, later)
			}
			res := m.update(t)
			fr := resultOf(t, res, tt.feed)
			if fr.Status != tt.wantStatus || !strings.Contains(fr.Warning, tt.wantWarn) {
				t.Errorf("%s: status %s, warning %q; want %s with %q", tt.feed, fr.Status, fr.Warning, tt.wantStatus, tt.wantWarn)
			}
			if !res.Rejected() {
				t.Error("Rejected() = false")
			}
			if after := m.counts(t); after[tt.feed] != before[tt.feed] {
				t.Errorf("rows of %s changed: %+v -> %+v", tt.feed, before[tt.feed], after[tt.feed])
			}
			if tt.wantStatus == StatusHeld {
				// The shrink was real after all: --accept-shrink takes it.
				m.u.AcceptShrink = true
				res := m.update(t)
				if fr := resultOf(t, res, tt.feed); fr.Status != StatusUpdated || fr.Records >= resultOf(t, first, tt.feed).Records {
					t.Errorf("--accept-shrink: %+v", fr)
				}
			}
		})
	}
}

// corruptStoredMember rewrites a zip with its members stored (not
// deflated) and flips one byte of the first member's data, so only its
// CRC-32 can tell.
func corruptStoredMember(t *testing.T, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zr.Close()
	zw.Close()
	b := buf.Bytes()
	// The first member's data follows its 30-byte local header and name.
	nameLen := int(b[26]) | int(b[27])<<8
	i := 30 + nameLen + 10
	b[i] ^= 0x20 // a letter changes case: still JSON-looking, wrong CRC
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMaxShrinkConfig(t *testing.T) {
	m := newMirrorCopy(t)
	m.update(t)
	cut(t, m.dsa, "\n[")
	m.u.Config.Feeds.MaxShrink = 0.9 // a 50 % drop is within 90 %
	if fr := resultOf(t, m.update(t), "debian/dsa"); fr.Status != StatusUpdated {
		t.Errorf("max_shrink 90%%: %+v", fr)
	}
}

// TestStalledDownload: a server that stops sending fails the download after
// IdleTimeout, not after a whole-request timeout.
func TestStalledDownload(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/no-headers" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	f := &Fetcher{IdleTimeout: 200 * time.Millisecond, Attempts: 2, BaseDelay: time.Millisecond, TempDir: t.TempDir()}
	for path, want := range map[string]string{"/body": "download stalled: no data for 200ms after 100 bytes", "/no-headers": "no answer within 200ms"} {
		start := time.Now()
		_, err := f.Fetch(context.Background(), srv.URL+path, Validators{}, nil)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "after 2 attempts") {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", path, d)
		}
	}
	// A slow but moving download is not a stall.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 5 {
			w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer slow.Close()
	doc, err := f.Fetch(context.Background(), slow.URL, Validators{}, nil)
	if err != nil || doc.Size != 50 {
		t.Errorf("slow download: %+v %v", doc, err)
	}
	doc.Close()
}

// TestDiskFull downloads into a 64 KiB tmpfs: the error names the full disk
// and is not retried. It needs the right to mount (root in a container).
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write(make([]byte, 1<<20))
	}))
	defer srv.Close()
	f := &Fetcher{TempDir: dir, BaseDelay: time.Millisecond}
	_, err := f.Fetch(context.Background(), srv.URL, Validators{}, nil)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") || calls.Load() != 1 {
		t.Errorf("err = %v after %d calls, want ENOSPC once", err, calls.Load())
	}
	// The whole update stops there and the DB directory keeps no temp file.
	u := &Updater{Config: testUpdater(t, srv.URL).Config, Fetcher: f}
	u.Config.Mirror = srv.URL
	if _, err := u.Update(context.Background(), []string{"kev"}); err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("update: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
}

// TestDiskFullWhileBuilding: the DB directory fills up during the import
// (SQLite's "database or disk is full"): the update fails saying "no space
// left on device", the old DB stays, and no temp file is left.
func TestDiskFullWhileBuilding(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, 0)
	u := testUpdater(t, corpus.Path(t, "feeds"))
	u.Config.DBPath = filepath.Join(dir, "vigil.db")
	_, err := u.Update(context.Background(), []string{"osv/crates.io"})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("err = %v, want no space left on device", err)
	}
	t.Log(err)
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
}
