package image

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

const testNamespace = "vigil-test"

var containerdLoadOnce sync.Once

// containerdWithImages is the package's containerd with the corpus Alpine
// 3.10, dive-test (14 layers) and arm64-only OCI images imported into
// testNamespace.
func containerdWithImages(t *testing.T) *imagetest.Containerd {
	t.Helper()
	c := imagetest.StartContainerd(t)
	containerdLoadOnce.Do(func() {
		c.Import(t, testNamespace, corpus.Path(t, "images", "alpine-310.tar.gz"))
		c.Import(t, testNamespace, corpus.Path(t, "images", "dive-test-docker-image.tar"))
	})
	return c
}

func containerdOpts(t *testing.T, sock string) Options {
	return Options{TempDir: t.TempDir(), ContainerdNamespace: testNamespace, Getenv: envOf("CONTAINERD_ADDRESS", sock)}
}

// The same image read from containerd's content store and from the docker
// save archive it was imported from gives the same inventory.
func TestReadContainerdMatchesArchive(t *testing.T) {
	c := containerdWithImages(t)
	want, err := Read(context.Background(), "docker-archive:"+corpus.Path(t, "images", "alpine-310.tar.gz"),
		[]inventory.Analyzer{&apkCounter{}}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// As imported (docker.io/library/alpine:3.10) and as a user types it.
	for _, ref := range []string{"containerd:alpine:3.10", "containerd:docker.io/library/alpine:3.10"} {
		t.Run(ref, func(t *testing.T) {
			inv, err := Read(context.Background(), ref, []inventory.Analyzer{&apkCounter{}}, containerdOpts(t, c.Socket))
			if err != nil {
				t.Fatal(err)
			}
			a := inv.Artifact
			if a.Source != "containerd" || a.Name != ref {
				t.Errorf("source %q name %q", a.Source, a.Name)
			}
			if a.ImageID != want.Artifact.ImageID || a.OS != want.Artifact.OS {
				t.Errorf("image %s OS %+v, want %s %+v", a.ImageID, a.OS, want.Artifact.ImageID, want.Artifact.OS)
			}
			if len(inv.Packages) != 14 || !slices.EqualFunc(inv.Packages, want.Packages, func(a, b inventory.Package) bool { return a.PURL == b.PURL }) {
				t.Errorf("%d packages, archive gives %d", len(inv.Packages), len(want.Packages))
			}
			if len(a.Layers) != 1 || a.Layers[0].DiffID != want.Artifact.Layers[0].DiffID || !strings.Contains(a.Layers[0].CreatedBy, "ADD file:") {
				t.Errorf("layers %+v", a.Layers)
			}
			if len(a.RepoTags) != 1 || a.RepoTags[0] != "docker.io/library/alpine:3.10" || len(a.RepoDigests) != 1 || !strings.HasPrefix(a.RepoDigests[0], "docker.io/library/alpine@sha256:") {
				t.Errorf("repo tags %v digests %v", a.RepoTags, a.RepoDigests)
			}
		})
	}
}

// Every layer of a 14-layer image is read and attributed in image order;
// the second read comes from the layer cache.
func TestReadContainerdLayersAndCache(t *testing.T) {
	c := containerdWithImages(t)
	want, err := Read(context.Background(), "docker-archive:"+corpus.Path(t, "images", "dive-test-docker-image.tar"), nil, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	opts := containerdOpts(t, c.Socket)
	opts.CacheDir = t.TempDir()
	for round := range 2 {
		opts.Progress = &Progress{}
		inv, err := Read(context.Background(), "containerd:dive-test:latest", nil, opts)
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
		if n := opts.Progress.Bytes.Load(); round == 1 && n != 0 {
			t.Errorf("second read streamed %d bytes; want every layer from the cache", n)
		}
	}
}

// A bare reference finds the image in containerd when the other daemons
// are not running, and says so.
func TestBareReferenceContainerd(t *testing.T) {
	c := containerdWithImages(t)
	dead := filepath.Join(t.TempDir(), "nobody.sock")
	opts := containerdOpts(t, c.Socket)
	opts.Getenv = envOf("DOCKER_HOST", "unix://"+dead, "CONTAINER_HOST", "unix://"+dead, "CONTAINERD_ADDRESS", c.Socket)
	inv, err := Read(context.Background(), "alpine:3.10", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Artifact.Source != "containerd" {
		t.Errorf("source = %q, want containerd", inv.Artifact.Source)
	}
	// Not in containerd either: the registry's error names containerd's answer.
	opts.Sources = []string{"containerd", "remote"}
	_, err = Read(context.Background(), "127.0.0.1:1/none/alpine:3.10", nil, opts)
	if err == nil || !strings.Contains(err.Error(), "containerd: no such image") {
		t.Errorf("err = %v, want containerd's answer", err)
	}
}

func TestContainerdBadInput(t *testing.T) {
	c := containerdWithImages(t)
	dir := t.TempDir()
	httpSock := serveUnix(t, filepath.Join(dir, "http.sock"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("\x00\x01 not grpc"))
	}))
	rawSock := serveGarbage(t, filepath.Join(dir, "raw.sock"))
	tests := []struct {
		name, sock, ns, ref string
		is                  error
		says                []string
	}{
		{"no socket", filepath.Join(dir, "none.sock"), testNamespace, "alpine:3.10", ErrDaemonUnavailable, []string{"not reachable", "none.sock"}},
		{"HTTP server", httpSock, testNamespace, "alpine:3.10", ErrDaemonUnavailable, []string{"not reachable", "http.sock"}},
		{"not HTTP", rawSock, testNamespace, "alpine:3.10", ErrDaemonUnavailable, []string{"not reachable"}},
		{"missing image", c.Socket, testNamespace, "no-such-image:1", ErrNotInDaemon, []string{"no-such-image:1", `namespace "vigil-test"`}},
		{"wrong namespace", c.Socket, "default", "alpine:3.10", ErrNotInDaemon, []string{`namespace "default"`, "other namespaces: vigil-test", "--containerd-namespace"}},
		{"bad reference", c.Socket, testNamespace, "UPPER/Case::x", nil, []string{"parsing reference"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := Read(ctx, "containerd:"+tc.ref, nil, Options{TempDir: t.TempDir(),
				ContainerdNamespace: tc.ns, Getenv: envOf("CONTAINERD_ADDRESS", tc.sock)})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %v, want it to say %q", err, s)
				}
			}
			if ctx.Err() != nil {
				t.Errorf("took the whole timeout: %v", err)
			}
		})
	}
}

func TestContainerdAddress(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", DefaultContainerdAddress},
		{"/x/c.sock", "/x/c.sock"},
		{"unix:///x/c.sock", "/x/c.sock"},
	} {
		if got, _ := containerdAddress(envOf("CONTAINERD_ADDRESS", tc.env)); got != tc.want {
			t.Errorf("CONTAINERD_ADDRESS=%q: %q, want %q", tc.env, got, tc.want)
		}
	}
}

// An image whose index has only arm64: read by default (the first image,
// as for a registry index), refused for an explicit other platform.
func TestContainerdPlatform(t *testing.T) {
	c := containerdWithImages(t)
	const ns = "vigil-platform"
	c.Import(t, ns, corpus.Path(t, "images", "dive-test-oci-gzip-image.tar"), "--index-name", "vigil/dive-oci:arm64")
	want, err := Read(context.Background(), "oci-archive:"+corpus.Path(t, "images", "dive-test-oci-gzip-image.tar"), nil, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, platform := range []string{"", "linux/arm64"} {
		opts := containerdOpts(t, c.Socket)
		opts.ContainerdNamespace, opts.Platform = ns, platform
		inv, err := Read(context.Background(), "containerd:vigil/dive-oci:arm64", nil, opts)
		if err != nil {
			t.Fatalf("platform %q: %v", platform, err)
		}
		if inv.Artifact.Digest != want.Artifact.Digest || inv.Artifact.Platform != "linux/arm64" || len(inv.Contents) != len(want.Contents) {
			t.Errorf("platform %q: digest %s arch %s, %d files; want %s arm64, %d files", platform,
				inv.Artifact.Digest, inv.Artifact.Platform, len(inv.Contents), want.Artifact.Digest, len(want.Contents))
		}
	}
	opts := containerdOpts(t, c.Socket)
	opts.ContainerdNamespace, opts.Platform = ns, "linux/amd64"
	_, err = Read(context.Background(), "containerd:vigil/dive-oci:arm64", nil, opts)
	if !errors.Is(err, ErrNoMatchingPlatform) || !strings.Contains(err.Error(), "linux/arm64") {
		t.Errorf("err = %v, want no linux/amd64 (index has linux/arm64)", err)
	}
}

// A layer blob changed in the content store behind containerd's back is
// caught by the walk's digest checks: the read fails, nothing is cached.
func TestContainerdTamperedLayer(t *testing.T) {
	c := containerdWithImages(t)
	const ns = "vigil-tamper"
	c.Import(t, ns, corpus.Path(t, "images", "dockle-scratch.tar"))
	opts := containerdOpts(t, c.Socket)
	opts.ContainerdNamespace = ns
	src, err := Open(context.Background(), "containerd:scratchtest2:latest", opts)
	if err != nil {
		t.Fatal(err)
	}
	blob := src.layers[0].blobDigest
	src.Close()
	p := c.BlobPath(blob)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// Same length, one byte of the file's content changed.
	i := bytes.Index(b, []byte("FROM"))
	if i < 0 {
		t.Fatalf("layer %s has no Dockerfile text to change", blob)
	}
	b[i] = 'f'
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.CacheDir = t.TempDir()
	_, err = Read(context.Background(), "containerd:scratchtest2:latest", nil, opts)
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err = %v, want a digest mismatch", err)
	}
	// Had the tampered layer's result been cached, this read would pass.
	if _, err = Read(context.Background(), "containerd:scratchtest2:latest", nil, opts); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("second read: err = %v, want a digest mismatch again", err)
	}
}
