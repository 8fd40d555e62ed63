package image

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// corpusImage builds an image whose one layer holds a real apk database and
// os-release from the corpus, for the given architecture.
func corpusImage(t *testing.T, arch string) v1.Image {
	t.Helper()
	apkDB, err := os.ReadFile(corpus.Path(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed"))
	if err != nil {
		t.Fatal(err)
	}
	osRelease, err := os.ReadFile(corpus.Path(t, "pkgdb", "apk", "grype-alpine-match-coverage", "etc", "os-release"))
	if err != nil {
		t.Fatal(err)
	}
	img := imagetest.Build(t, empty.Image, nil, imagetest.Step{CreatedBy: "ADD rootfs " + arch, Entries: []imagetest.Entry{
		{Name: "lib/apk/db/installed", Body: string(apkDB)},
		{Name: "usr/lib/os-release", Body: string(osRelease)},
		{Name: "etc/os-release", Typeflag: '2', Link: "../usr/lib/os-release"},
		{Name: "arch", Body: arch},
	}})
	return imagetest.EditConfigFile(t, img, func(cf *v1.ConfigFile) { cf.OS, cf.Architecture = "linux", arch })
}

func TestReadRegistry(t *testing.T) {
	ref := imagetest.Registry(t) + "/test/img:1"
	img := corpusImage(t, "amd64")
	imagetest.Push(t, img, ref)
	apk := &apkCounter{}
	cache := t.TempDir()
	inv, err := Read(context.Background(), ref, []inventory.Analyzer{apk}, Options{Insecure: true, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) == 0 {
		t.Fatal("no packages")
	}
	if inv.Artifact.OS.Family != "alpine" || inv.Packages[0].Ecosystem == "" {
		t.Errorf("OS %+v, ecosystem %q: os-release symlink not resolved?", inv.Artifact.OS, inv.Packages[0].Ecosystem)
	}
	digest, _ := img.Digest()
	if inv.Artifact.Digest != digest.String() {
		t.Errorf("digest = %s, want %s", inv.Artifact.Digest, digest)
	}
	l := inv.Artifact.Layers[0]
	if l.Digest == "" || l.MediaType == "" || l.Size == 0 || l.CreatedBy != "ADD rootfs amd64" {
		t.Errorf("layer = %+v", l)
	}
	if p := inv.Packages[0]; p.Layer == nil || p.Layer.Digest != l.Digest {
		t.Errorf("package layer = %+v", p.Layer)
	}

	// Cached: same result without analyzing again.
	again, err := Read(context.Background(), ref, []inventory.Analyzer{apk}, Options{Insecure: true, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if apk.analyzed.Load() != 1 || len(again.Packages) != len(inv.Packages) {
		t.Errorf("analyzed %d times, %d vs %d packages", apk.analyzed.Load(), len(again.Packages), len(inv.Packages))
	}
}

func TestReadRegistryIndex(t *testing.T) {
	ref := imagetest.Registry(t) + "/test/multi:1"
	r, _ := name.ParseReference(ref, name.Insecure)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: corpusImage(t, "amd64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: corpusImage(t, "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	arch := contentKeeper{paths: map[string]bool{"arch": true}}
	for _, tt := range []struct{ platform, want string }{{"", "amd64"}, {"linux/amd64", "amd64"}, {"linux/arm64", "arm64"}, {"linux/arm64/v8", "arm64"}} {
		inv, err := Read(context.Background(), ref, []inventory.Analyzer{arch}, Options{Platform: tt.platform})
		if err != nil {
			t.Fatalf("%s: %v", tt.platform, err)
		}
		if got := string(inv.Contents["arch"]); got != tt.want {
			t.Errorf("platform %q: got %s image, want %s", tt.platform, got, tt.want)
		}
		if !strings.HasSuffix(inv.Artifact.Platform, tt.want) {
			t.Errorf("platform %q: artifact platform %s", tt.platform, inv.Artifact.Platform)
		}
	}
	_, err := Read(context.Background(), ref, nil, Options{Platform: "linux/s390x"})
	if !errors.Is(err, ErrNoMatchingPlatform) {
		t.Errorf("s390x: err = %v, want ErrNoMatchingPlatform", err)
	}
}

func TestUnknownLayerMediaType(t *testing.T) {
	layer := imagetest.LayerFromTar(t, imagetest.LayerTar(t, imagetest.Entry{Name: "a", Body: "1"}),
		tarball.WithMediaType("application/vnd.example.not-a-layer"))
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, MediaType: "application/vnd.example.not-a-layer"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Read(context.Background(), imagetest.WriteLayout(t, img), nil, Options{})
	if !errors.Is(err, ErrUnsupportedMediaType) || !strings.Contains(err.Error(), "not-a-layer") {
		t.Errorf("err = %v, want ErrUnsupportedMediaType naming the type", err)
	}
	_ = types.OCILayer
}
