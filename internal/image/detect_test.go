package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestDetectLocal(t *testing.T) {
	rootfs := t.TempDir()
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	notImage := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notImage, []byte("hello"), 0o600)
	plainTar := filepath.Join(t.TempDir(), "files.tar")
	os.WriteFile(plainTar, imagetest.LayerTar(t, imagetest.Entry{Name: "a.txt", Body: "a"}), 0o600)
	tests := []struct {
		path string
		want LocalKind
		err  string
	}{
		{corpus.Path(t, "images", "alpine-310.tar.gz"), KindDockerArchive, ""},
		{corpus.Path(t, "images", "dive-test-docker-image.tar"), KindDockerArchive, ""},
		{corpus.Path(t, "images", "dive-test-oci-zstd-image.tar"), KindOCIArchive, ""},
		{corpus.Path(t, "images", "hello-world.oci"), KindOCILayout, ""},
		{rootfs, KindRootFS, ""},
		{notImage, "", "not an image archive"},
		{plainTar, "", "neither a docker save archive"},
		{filepath.Join(t.TempDir(), "missing.tar"), "", "no such file"},
	}
	for _, tc := range tests {
		got, err := DetectLocal(context.Background(), tc.path, Options{}.withDefaults())
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q, %v; want %q, %q", filepath.Base(tc.path), got, err, tc.want, tc.err)
		}
	}
}

// A bare path is read as what it holds; a scheme that does not fit says
// which one does.
func TestBarePathsAndSchemeHints(t *testing.T) {
	alpine := corpus.Path(t, "images", "alpine-310.tar.gz")
	inv, err := Read(context.Background(), alpine, []inventory.Analyzer{&apkCounter{}}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Artifact.Source != "docker-archive" || inv.Artifact.Name != alpine || len(inv.Packages) != 14 {
		t.Errorf("source %q name %q, %d packages", inv.Artifact.Source, inv.Artifact.Name, len(inv.Packages))
	}
	layout := corpus.Path(t, "images", "hello-world.oci")
	if inv, err := Read(context.Background(), layout, nil, Options{TempDir: t.TempDir()}); err != nil || inv.Artifact.Source != "oci-layout" {
		t.Errorf("layout: %v", err)
	}
	hints := map[string]string{
		"oci-layout:" + alpine:     "is a docker save archive; use docker-archive:" + alpine,
		"oci-archive:" + alpine:    "use docker-archive:",
		"docker-archive:" + layout: "is an OCI layout directory; use oci-layout:" + layout,
		"dir:" + alpine:            "use docker-archive:",
		"oci-layout:" + corpus.Path(t, "images", "dive-test-oci-gzip-image.tar"): "is an OCI archive; use oci-archive:",
	}
	for ref, want := range hints {
		_, err := Read(context.Background(), ref, nil, Options{TempDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", ref, err, want)
		}
	}
	if _, err := Read(context.Background(), "./no/such/image.tar", nil, Options{}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing path: %v", err)
	}
}

// Layers that arrive out of image order (Docker writes its export's blobs
// sorted by digest) are still read from a single second export.
func TestSaveStreamOutOfOrder(t *testing.T) {
	img := imagetest.Build(t, empty.Image, nil,
		imagetest.Step{CreatedBy: "one", Entries: []imagetest.Entry{{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.10.4\n"}}},
		imagetest.Step{CreatedBy: "two", Entries: []imagetest.Entry{{Name: "lib/apk/db/installed", Body: "P:musl\nV:1.1.22-r3\nA:x86_64\n\n"}}},
		imagetest.Step{CreatedBy: "three", Entries: []imagetest.Entry{{Name: "etc/.wh.os-release"}, {Name: "b.txt", Body: "b"}}},
	)
	archive := strings.TrimPrefix(imagetest.WriteDockerArchive(t, img, "test/ooo:1"), "docker-archive:")
	want, err := Read(context.Background(), "docker-archive:"+archive, []inventory.Analyzer{&apkCounter{}}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	export := reversedLayers(t, archive)
	var saves atomic.Int32
	s := &saveStream{ctx: context.Background(), save: func(context.Context) (io.ReadCloser, error) {
		saves.Add(1)
		return io.NopCloser(bytes.NewReader(export)), nil
	}}
	config, _ := img.ConfigName()
	if err := s.index(config); err != nil {
		t.Fatal(err)
	}
	src := &Source{}
	if err := src.fromSaveIndex(s, config); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src.streamOrder, []int{2, 1, 0}) {
		t.Errorf("stream order %v, want [2 1 0]", src.streamOrder)
	}
	opts := Options{TempDir: t.TempDir()}.withDefaults()
	results, err := analyzeLayers(context.Background(), src, withOSRelease([]inventory.Analyzer{&apkCounter{}}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := saves.Load(); n != 2 {
		t.Errorf("%d exports read, want 2 (index, then every layer)", n)
	}
	inv, _ := merge(src.Artifact.Layers, results, nil)
	if len(inv.Packages) != len(want.Packages) || len(inv.Packages) != 1 || inv.Packages[0].Layer.Index != 1 {
		t.Errorf("packages %+v, want %+v", inv.Packages, want.Packages)
	}
	if _, ok := inv.Contents["etc/os-release"]; ok {
		t.Error("whiteout in layer 3 not applied")
	}
}

// reversedLayers rewrites a docker save tar with its .tar.gz layer members
// in reverse order, as an export sorted by digest may have them.
func reversedLayers(t *testing.T, archive string) []byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type member struct {
		hdr  *tar.Header
		body []byte
	}
	var layers, rest []member
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		m := member{hdr, b}
		if strings.HasSuffix(hdr.Name, ".tar.gz") {
			layers = append(layers, m)
		} else {
			rest = append(rest, m)
		}
	}
	slices.Reverse(layers)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range append(layers, rest...) {
		tw.WriteHeader(m.hdr)
		tw.Write(m.body)
	}
	tw.Close()
	return buf.Bytes()
}

// FuzzDetectTar: any bytes give a kind or an error, never a panic.
func FuzzDetectTar(f *testing.F) {
	f.Add(imagetest.LayerTar(f, imagetest.Entry{Name: "manifest.json", Body: "[]"}))
	f.Add(imagetest.LayerTar(f, imagetest.Entry{Name: "oci-layout", Body: "{}"}, imagetest.Entry{Name: "index.json", Body: "{}"}))
	f.Add([]byte("not a tar"))
	opts := Options{MaxLayerBytes: 1 << 20}.withDefaults()
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, err := detectTar(context.Background(), "fuzz", bytes.NewReader(b), opts)
		if err == nil && kind == "" {
			t.Fatal("no kind and no error")
		}
	})
}
