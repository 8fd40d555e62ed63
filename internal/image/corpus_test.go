package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestReadAlpine310(t *testing.T) {
	ref := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	inv, err := Read(context.Background(), ref, []inventory.Analyzer{&apkCounter{}}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	os := inv.Artifact.OS
	if os.Family != "alpine" || os.Version != "3.10.4" {
		t.Errorf("OS = %+v, want alpine 3.10.4", os)
	}
	if len(inv.Packages) != 14 {
		t.Fatalf("got %d packages, want 14", len(inv.Packages))
	}
	var musl *inventory.Package
	for i, p := range inv.Packages {
		if p.Ecosystem != "Alpine:v3.10" {
			t.Errorf("%s: ecosystem %q, want Alpine:v3.10", p.Name, p.Ecosystem)
		}
		if p.Layer == nil || p.Layer.DiffID != inv.Artifact.Layers[0].DiffID {
			t.Errorf("%s: layer %+v, want the only layer", p.Name, p.Layer)
		}
		if p.Name == "musl" {
			musl = &inv.Packages[i]
		}
	}
	if musl == nil || musl.PURL != "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4" {
		t.Errorf("musl purl = %v", musl)
	}
	a := inv.Artifact
	if len(a.RepoTags) != 1 || a.RepoTags[0] != "alpine:3.10" {
		t.Errorf("RepoTags = %v", a.RepoTags)
	}
	if !strings.HasPrefix(a.ImageID, "sha256:af341ccd2df8") || a.Platform != "linux/amd64" {
		t.Errorf("ImageID %s platform %s", a.ImageID, a.Platform)
	}
	if len(a.Layers) != 1 || a.Layers[0].Base || !strings.Contains(a.Layers[0].CreatedBy, "ADD file:") {
		t.Errorf("layers = %+v", a.Layers)
	}
	if a.Config == nil || len(a.Config.Cmd) == 0 || a.Config.Cmd[0] != "/bin/sh" {
		t.Errorf("config = %+v", a.Config)
	}
}

func TestReadCorpusImages(t *testing.T) {
	tests := []struct {
		ref       string
		platform  string
		wantLayer int
		wantPlat  string
		wantOS    string
	}{
		{ref: "oci-layout:" + corpus.Path(t, "images", "hello-world.oci"), wantLayer: 1, wantPlat: "linux/amd64"},
		{ref: "oci-archive:" + corpus.Path(t, "images", "dive-test-oci-gzip-image.tar"), wantLayer: 1, wantPlat: "linux/arm64"},
		{ref: "oci-archive:" + corpus.Path(t, "images", "dive-test-oci-zstd-image.tar"), wantLayer: 1, wantPlat: "linux/arm64"},
		{ref: "oci-archive:" + corpus.Path(t, "images", "dive-test-oci-zstd-image.tar"), platform: "linux/arm64", wantLayer: 1, wantPlat: "linux/arm64"},
		{ref: "docker-archive:" + corpus.Path(t, "images", "dockle-scratch.tar"), wantLayer: 1, wantPlat: "linux/amd64"},
		{ref: "docker-archive:" + corpus.Path(t, "images", "dive-test-docker-image.tar"), wantLayer: 14, wantPlat: "linux/amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.ref[strings.LastIndex(tt.ref, "/")+1:], func(t *testing.T) {
			tmp := t.TempDir()
			inv, err := Read(context.Background(), tt.ref, []inventory.Analyzer{prefixFacts{prefix: ""}}, Options{TempDir: tmp, Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(inv.Artifact.Layers); got != tt.wantLayer {
				t.Errorf("layers = %d, want %d", got, tt.wantLayer)
			}
			if inv.Artifact.Platform != tt.wantPlat {
				t.Errorf("platform = %q, want %q", inv.Artifact.Platform, tt.wantPlat)
			}
			if len(inv.Files) == 0 {
				t.Errorf("no files seen")
			}
			for _, f := range inv.Files {
				if f.Layer == nil {
					t.Errorf("%s: no layer", f.Path)
				}
			}
			assertEmptyDir(t, tmp)
		})
	}
}

func TestReadOCIPlatformMismatch(t *testing.T) {
	ref := "oci-archive:" + corpus.Path(t, "images", "dive-test-oci-zstd-image.tar")
	_, err := Read(context.Background(), ref, nil, Options{TempDir: t.TempDir(), Platform: "linux/amd64"})
	if err == nil || !strings.Contains(err.Error(), "linux/arm64") {
		t.Fatalf("err = %v, want no-matching-platform naming linux/arm64", err)
	}
}

// The dive test image deletes root/example/somefile3.txt with a whiteout
// file and then the whole root/example directory; neither may be reported,
// and a file rewritten by a later layer is attributed to that layer.
func TestReadDiveWhiteouts(t *testing.T) {
	ref := "docker-archive:" + corpus.Path(t, "images", "dive-test-docker-image.tar")
	inv, err := Read(context.Background(), ref, []inventory.Analyzer{prefixFacts{prefix: "root/"}}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range inv.Files {
		got[f.Path] = f.Layer.Index
	}
	want := map[string]int{
		"root/saved.txt":              13, // rewritten by the last layer
		"root/.saved.txt":             8,
		"root/.data/tag.sh":           10,
		"root/.data/test.sh":          10,
		"root/.data/saved.again2.txt": 12,
	}
	if len(got) != len(want) {
		t.Errorf("files = %v, want %v", got, want)
	}
	for p, idx := range want {
		if g, ok := got[p]; !ok || g != idx {
			t.Errorf("%s: layer %d (present %v), want %d", p, g, ok, idx)
		}
	}
	for p := range got {
		if strings.HasPrefix(p, "root/example") {
			t.Errorf("deleted file %s reported", p)
		}
	}
	layers := inv.Artifact.Layers
	if !layers[0].Base || layers[1].Base {
		t.Errorf("base attribution: layer0 %v layer1 %v, want only the busybox layer", layers[0].Base, layers[1].Base)
	}
	if inv.Artifact.OS.Known() {
		t.Errorf("busybox image has no os-release, got %+v", inv.Artifact.OS)
	}
	for _, w := range inv.Warnings {
		t.Errorf("unexpected warning: %s", w)
	}
}

// Archives compressed as a whole: a gzipped OCI archive and an
// uncompressed copy of the gzipped alpine docker-archive.
func TestReadRecompressedArchives(t *testing.T) {
	dir := t.TempDir()
	oci, err := os.ReadFile(corpus.Path(t, "images", "dive-test-oci-gzip-image.tar"))
	if err != nil {
		t.Fatal(err)
	}
	ociGz := filepath.Join(dir, "oci.tar.gz")
	if err := os.WriteFile(ociGz, gzipBytes(t, oci), 0o644); err != nil {
		t.Fatal(err)
	}
	alpineTar := filepath.Join(dir, "alpine.tar")
	imagetest.Gunzip(t, corpus.Path(t, "images", "alpine-310.tar.gz"), alpineTar)

	tmp := t.TempDir()
	inv, err := Read(context.Background(), "oci-archive:"+ociGz, []inventory.Analyzer{prefixFacts{}}, Options{TempDir: tmp})
	if err != nil || len(inv.Files) != 1 || inv.Files[0].Path != "README.md" {
		t.Errorf("gzipped oci-archive: %v, files %+v", err, inv)
	}
	inv, err = Read(context.Background(), "docker-archive:"+alpineTar, []inventory.Analyzer{&apkCounter{}}, Options{TempDir: tmp})
	if err != nil || len(inv.Packages) != 14 || inv.Artifact.OS.Version != "3.10.4" {
		t.Errorf("plain docker-archive: %v", err)
	}
	assertEmptyDir(t, tmp)
}
