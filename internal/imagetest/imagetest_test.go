package imagetest

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
)

func TestLayerTarDefaults(t *testing.T) {
	blob := LayerTar(t,
		Entry{Name: "f", Body: "abc"},
		Entry{Name: "d/", Typeflag: tar.TypeDir},
		Entry{Name: "s", Typeflag: tar.TypeSymlink, Link: "f", Mode: 0o777},
	)
	tr := tar.NewReader(bytes.NewReader(blob))
	want := []struct {
		typ  byte
		mode int64
		body string
	}{{tar.TypeReg, 0o644, "abc"}, {tar.TypeDir, 0o755, ""}, {tar.TypeSymlink, 0o777, ""}}
	for _, w := range want {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if hdr.Typeflag != w.typ || hdr.Mode != w.mode || string(body) != w.body {
			t.Errorf("%s: type %q mode %o body %q, want %q %o %q", hdr.Name, hdr.Typeflag, hdr.Mode, body, w.typ, w.mode, w.body)
		}
	}
}

func TestBuild(t *testing.T) {
	at := time.Unix(1700000000, 0).UTC()
	img := Build(t, empty.Image, func(c *v1.Config) { c.User = "app" },
		Step{CreatedBy: "ADD a /", Entries: []Entry{{Name: "a", Body: "1"}}, Created: at},
		Step{CreatedBy: "USER app"},
	)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.History) != 2 || cf.History[0].EmptyLayer || !cf.History[1].EmptyLayer || cf.History[1].CreatedBy != "USER app" || cf.Config.User != "app" {
		t.Fatalf("config = %+v", cf)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %v, %v", layers, err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hdr, err := tar.NewReader(rc).Next()
	if err != nil || !hdr.ModTime.Equal(at) {
		t.Errorf("entry time = %v, %v; want the step's %v", hdr, err, at)
	}
}

// A missing tool skips the test, except under CI=true where it fails:
// checked in a child test binary.
func TestUnavailableFailsUnderCI(t *testing.T) {
	if os.Getenv("IMAGETEST_UNAVAILABLE") == "1" {
		unavailable(t, "sometool is not installed")
		return
	}
	for ci, want := range map[string]string{"true": "--- FAIL", "": "--- SKIP"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailableFailsUnderCI$", "-test.v")
		cmd.Env = append(os.Environ(), "IMAGETEST_UNAVAILABLE=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		if !strings.Contains(string(out), want) || !strings.Contains(string(out), "sometool is not installed") || (err != nil) != (ci == "true") {
			t.Errorf("CI=%q: %v\n%s", ci, err, out)
		}
	}
}
