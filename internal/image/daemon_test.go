package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestMain(m *testing.M) {
	code := m.Run()
	imagetest.PodmanCleanup()
	imagetest.ContainerdCleanup()
	os.Exit(code)
}

var loadOnce sync.Once

// podmanWithAlpine is the package's Podman with the corpus Alpine 3.10
// image loaded (as localhost/alpine:3.10).
func podmanWithAlpine(t *testing.T) *imagetest.Podman {
	t.Helper()
	p := imagetest.StartPodman(t)
	archive := corpus.Path(t, "images", "alpine-310.tar.gz")
	loadOnce.Do(func() {
		p.Load(t, archive)
		p.Load(t, corpus.Path(t, "images", "dive-test-docker-image.tar"))
	})
	return p
}

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// The same image read from the daemon and from its docker save archive
// must give the same inventory.
func TestReadPodmanMatchesArchive(t *testing.T) {
	p := podmanWithAlpine(t)
	want, err := Read(context.Background(), "docker-archive:"+corpus.Path(t, "images", "alpine-310.tar.gz"),
		[]inventory.Analyzer{&apkCounter{}}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, env, source string }{
		{"podman:alpine:3.10", "CONTAINER_HOST", "podman"},
		{"docker:localhost/alpine:3.10", "DOCKER_HOST", "docker"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			inv, err := Read(context.Background(), tc.ref, []inventory.Analyzer{&apkCounter{}},
				Options{TempDir: t.TempDir(), Getenv: envOf(tc.env, p.Host())})
			if err != nil {
				t.Fatal(err)
			}
			a := inv.Artifact
			if a.Source != tc.source || a.Name != tc.ref {
				t.Errorf("source %q name %q", a.Source, a.Name)
			}
			if a.ImageID != want.Artifact.ImageID || a.OS != want.Artifact.OS {
				t.Errorf("image %s OS %+v, want %s %+v", a.ImageID, a.OS, want.Artifact.ImageID, want.Artifact.OS)
			}
			if len(inv.Packages) != len(want.Packages) || len(inv.Packages) != 14 {
				t.Errorf("%d packages, archive gives %d", len(inv.Packages), len(want.Packages))
			}
			if len(a.Layers) != 1 || a.Layers[0].DiffID != want.Artifact.Layers[0].DiffID || !strings.Contains(a.Layers[0].CreatedBy, "ADD file:") {
				t.Errorf("layers %+v", a.Layers)
			}
			if len(a.RepoTags) == 0 || !strings.HasSuffix(a.RepoTags[0], "alpine:3.10") {
				t.Errorf("repo tags %v", a.RepoTags)
			}
		})
	}
}

// A multi-layer image: every layer read from one export, attributed in
// image order, cached for the second read.
func TestReadPodmanLayersAndCache(t *testing.T) {
	p := podmanWithAlpine(t)
	want, err := Read(context.Background(), "docker-archive:"+corpus.Path(t, "images", "dive-test-docker-image.tar"), nil, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	opts := Options{TempDir: t.TempDir(), CacheDir: cache, Getenv: envOf("CONTAINER_HOST", p.Host())}
	for range 2 {
		inv, err := Read(context.Background(), "podman:localhost/dive-test:latest", nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Artifact.Layers) != len(want.Artifact.Layers) || len(inv.Artifact.Layers) < 5 {
			t.Fatalf("%d layers, archive has %d", len(inv.Artifact.Layers), len(want.Artifact.Layers))
		}
		for i, l := range inv.Artifact.Layers {
			if l.DiffID != want.Artifact.Layers[i].DiffID || l.CreatedBy != want.Artifact.Layers[i].CreatedBy {
				t.Errorf("layer %d = %s %q, want %s", i, l.DiffID, l.CreatedBy, want.Artifact.Layers[i].DiffID)
			}
		}
		if len(inv.Contents) != len(want.Contents) {
			t.Errorf("%d merged files, archive gives %d", len(inv.Contents), len(want.Contents))
		}
	}
}

func TestBareReferenceOrder(t *testing.T) {
	p := podmanWithAlpine(t)
	dead := filepath.Join(t.TempDir(), "nobody.sock")
	// docker is not running; podman has the image: podman is used.
	inv, err := Read(context.Background(), "alpine:3.10", nil, Options{TempDir: t.TempDir(),
		Getenv: envOf("DOCKER_HOST", "unix://"+dead, "CONTAINER_HOST", p.Host())})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Artifact.Source != "podman" {
		t.Errorf("source = %q, want podman", inv.Artifact.Source)
	}
	// Both serve it: docker (first in order) wins.
	inv, err = Read(context.Background(), "alpine:3.10", nil, Options{TempDir: t.TempDir(),
		Getenv: envOf("DOCKER_HOST", p.Host(), "CONTAINER_HOST", p.Host())})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Artifact.Source != "docker" {
		t.Errorf("source = %q, want docker", inv.Artifact.Source)
	}
	// An order without the daemons goes to the registry, which has no such host.
	_, err = Read(context.Background(), "127.0.0.1:1/none/alpine:3.10", nil, Options{TempDir: t.TempDir(),
		Sources: []string{"podman", "remote"}, Getenv: envOf("CONTAINER_HOST", p.Host())})
	if err == nil || !strings.Contains(err.Error(), "podman: no such image") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("err = %v, want the registry's error and podman's answer", err)
	}
}

func TestDaemonBadInput(t *testing.T) {
	p := podmanWithAlpine(t)
	dir := t.TempDir()
	dead := filepath.Join(dir, "dead.sock")
	garbage := serveUnix(t, filepath.Join(dir, "garbage.sock"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("\x00\x01 not json, not tar"))
	}))
	notHTTP := serveGarbage(t, filepath.Join(dir, "raw.sock"))
	tests := []struct {
		name, host, ref string
		is              error
		says            string
	}{
		{"nobody listens", "unix://" + dead, "alpine:3.10", ErrDaemonUnavailable, "not reachable"},
		{"not HTTP", "unix://" + notHTTP, "alpine:3.10", ErrDaemonUnavailable, "not reachable"},
		{"HTTP garbage", "unix://" + garbage, "alpine:3.10", nil, "inspecting alpine:3.10"},
		{"missing image", p.Host(), "no-such-image:1", ErrNotInDaemon, "no-such-image:1"},
		{"bad reference", p.Host(), "UPPER/Case::x", nil, "parsing reference"},
		{"unsupported scheme", "ssh://user@host", "alpine:3.10", nil, "ssh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := Read(ctx, "docker:"+tc.ref, nil, Options{TempDir: t.TempDir(), Getenv: envOf("DOCKER_HOST", tc.host)})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("err = %v, want it to say %q", err, tc.says)
			}
			if ctx.Err() != nil {
				t.Errorf("took the whole timeout: %v", err)
			}
		})
	}
}

// serveUnix serves h on a unix socket until the test ends.
// serveGarbage listens on sock and answers every connection with bytes
// no HTTP or gRPC client can read, then hangs up.
func serveGarbage(t *testing.T, sock string) string {
	t.Helper()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n\x00\xff garbage\r\n\r\n"))
			c.Close()
		}
	}()
	return sock
}

func serveUnix(t *testing.T, sock string, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestDockerHostResolution(t *testing.T) {
	cfg := t.TempDir()
	writeContext(t, cfg, "remote", "tcp://10.0.0.1:2376")
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"currentContext":"remote"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  func(string) string
		want string
	}{
		{"DOCKER_HOST wins", envOf("DOCKER_HOST", "unix:///x.sock", "DOCKER_CONFIG", cfg), "unix:///x.sock"},
		{"current context", envOf("DOCKER_CONFIG", cfg), "tcp://10.0.0.1:2376"},
		{"DOCKER_CONTEXT=default", envOf("DOCKER_CONFIG", cfg, "DOCKER_CONTEXT", "default"), defaultDockerHost},
		{"no config", envOf("HOME", t.TempDir()), defaultDockerHost},
	}
	for _, tc := range tests {
		host, _, err := dockerHost(tc.env)
		if err != nil || host != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, host, err, tc.want)
		}
	}
	if _, _, err := dockerHost(envOf("DOCKER_CONFIG", cfg, "DOCKER_CONTEXT", "gone")); err == nil || !strings.Contains(err.Error(), `"gone"`) {
		t.Errorf("missing context: %v", err)
	}
}

// writeContext writes what `docker context create NAME --docker host=HOST` does.
func writeContext(t *testing.T, configDir, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	dir := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	meta := `{"Name":"` + name + `","Metadata":{},"Endpoints":{"docker":{"Host":"` + host + `","SkipTLSVerify":false}}}`
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o600); err != nil {
		t.Fatal(err)
	}
}
