package cli

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
)

// vigil sbom shows progress like vigil image (a plain line per layer off a
// terminal), nothing with -q.
func TestSbomProgressQuiet(t *testing.T) {
	ref := "docker-archive:" + corpus.Path(t, "images", "dive-test-docker-image.tar")
	env := map[string]string{"VIGIL_CACHE_DIR": t.TempDir()}
	out := filepath.Join(t.TempDir(), "sbom.json")
	code, _, stderr := run(t, env, "", "sbom", ref, "--no-cache", "--format", "json="+out)
	if code != 0 || !strings.Contains(stderr, "vigil: layer 1/14 read") || !strings.Contains(stderr, "vigil: layer 14/14") {
		t.Errorf("progress lines: code %d\n%s", code, stderr)
	}
	code, _, stderr = run(t, env, "", "sbom", ref, "--no-cache", "-q", "--format", "json="+out)
	if code != 0 || stderr != "" {
		t.Errorf("-q: code %d, stderr %q", code, stderr)
	}
	// Both are settings like every other flag.
	code, _, stderr = run(t, map[string]string{"VIGIL_CACHE_DIR": t.TempDir(), "VIGIL_QUIET": "true"}, "", "sbom", ref, "--format", "json="+out)
	if code != 0 || stderr != "" {
		t.Errorf("VIGIL_QUIET: code %d, stderr %q", code, stderr)
	}
}

// --timeout reached while a layer streams: exit 2, and no SBOM is written
// as if the image had been read whole.
func TestSbomTimeoutMidLayer(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "alpine.tar")
	imagetest.Gunzip(t, corpus.Path(t, "images", "alpine-310.tar.gz"), archive)
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layerDigest, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	// The registry sends the first half of the layer, then stalls until
	// the client goes away.
	var stall, started, cut atomic.Bool
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !stall.Load() || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+layerDigest.String()) {
			reg.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		reg.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", rec.Header().Get("Content-Length"))
		w.WriteHeader(rec.Code)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		started.Store(true)
		select {
		case <-r.Context().Done():
			cut.Store(true)
		case <-time.After(20 * time.Second):
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ref := u.Host + "/alpine:3.10"
	imagetest.Push(t, img, ref)
	stall.Store(true)

	env := map[string]string{"VIGIL_CACHE_DIR": t.TempDir()}
	out := filepath.Join(t.TempDir(), "sbom.cdx.json")
	start := time.Now()
	code, stdout, stderr := run(t, env, "", "sbom", ref, "--image-src", "remote", "--insecure-registry", "--no-cache",
		"--timeout", "2s", "--format", "cyclonedx-json="+out, "--format", "json")
	if code != 2 || !strings.Contains(stderr, "--timeout 2s reached; no report written") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
	for deadline := time.Now().Add(5 * time.Second); !cut.Load() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the server notices the closed connection after the client returns
	}
	if !started.Load() || !cut.Load() {
		t.Errorf("the timeout did not stop the scan mid-layer (layer started %v, cut %v)", started.Load(), cut.Load())
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("took %s after a 2s timeout", time.Since(start))
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an SBOM file was written after the timeout")
	}
	if stdout != "" {
		t.Errorf("stdout after the timeout: %q", stdout)
	}
}

// vigil db update prints a line per feed as it finishes (off a terminal),
// with what it downloaded; -q prints nothing when every feed is fine.
func TestDBUpdateProgressQuiet(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"VIGIL_DB": filepath.Join(dir, "vigil.db"), "VIGIL_CACHE_DIR": dir}
	code, _, stderr := run(t, env, "", "db", "update", "--mirror", corpus.Path(t, "feeds"), "--feed", "osv/Go", "--feed", "alpine/v3.10")
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	for _, want := range []string{"vigil: feed 1/3 osv/Go updated: ", " MiB, 4274 records", "vigil: feed 3/3 alpine/v3.10/community updated: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	code, _, stderr = run(t, env, "", "db", "update", "--mirror", corpus.Path(t, "feeds"), "--feed", "osv/Go", "-q")
	if code != 0 || stderr != "" {
		t.Errorf("-q: code %d, stderr %q", code, stderr)
	}
}
