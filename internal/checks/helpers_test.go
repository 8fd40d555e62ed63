package checks_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
)

// entry is one member of a hand-built layer.
type entry struct {
	name string
	body string
	mode int64 // default 0644
	typ  byte  // default regular file
	link string
}

// historyStep is one build step; layer holds the entries of the layer it
// made, nil for an empty-layer step (ENV, USER ...).
type historyStep struct {
	createdBy string
	layer     []entry
}

func layerTar(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Linkname: e.link}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildImage makes an image from the steps and config, writes it as a
// docker-archive and reads it back with the checks analyzer.
func buildImage(t *testing.T, steps []historyStep, cfg v1.Config) *inventory.Inventory {
	t.Helper()
	img := empty.Image
	var history []v1.History
	for _, s := range steps {
		h := v1.History{CreatedBy: s.createdBy, EmptyLayer: s.layer == nil}
		history = append(history, h)
		if s.layer == nil {
			continue
		}
		blob := layerTar(t, s.layer)
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: h}); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.History = history
	cf.Config = cfg
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag("example.test/checks:test")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return readImage(t, "docker-archive:"+p)
}

func readImage(t *testing.T, ref string) *inventory.Inventory {
	t.Helper()
	inv, err := image.Read(context.Background(), ref, []inventory.Analyzer{checks.Analyzer()}, image.Options{})
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	return inv
}

// byCode indexes results by rule code, failing on duplicates.
func byCode(t *testing.T, results []result.CheckResult) map[string]result.CheckResult {
	t.Helper()
	out := map[string]result.CheckResult{}
	for _, r := range results {
		if _, dup := out[r.Code]; dup {
			t.Errorf("rule %s reported twice", r.Code)
		}
		out[r.Code] = r
	}
	return out
}
