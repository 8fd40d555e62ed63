package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/imagetest"
)

func TestCacheMaxSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{"2GiB": 2 << 30, "500MB": 500e6, "1024": 1024, "unlimited": -1} {
		if got, err := cacheMaxBytes(in); err != nil || got != want {
			t.Errorf("cacheMaxBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-5", "lots", "99999999999EiB"} {
		code, _, stderr := run(t, nil, "", "sbom", "--cache-max-size", bad, "oci-layout:/nonexistent")
		if code != ExitScanFailed || !strings.Contains(stderr, "--cache-max-size") {
			t.Errorf("%q: code %d stderr %q", bad, code, stderr)
		}
	}
}

// An image whose layer does not match its diff ID is exit 2, naming the
// layer.
func TestTamperedImageExit(t *testing.T) {
	img := imagetest.Build(t, empty.Image, nil,
		imagetest.Step{CreatedBy: "x", Entries: []imagetest.Entry{{Name: "etc/os-release", Body: "ID=alpine\n"}}})
	other := imagetest.Build(t, empty.Image, nil,
		imagetest.Step{CreatedBy: "x", Entries: []imagetest.Entry{{Name: "etc/os-release", Body: "ID=debian\n"}}})
	cf, _ := other.ConfigFile()
	bad := imagetest.EditConfigFile(t, img, func(c *v1.ConfigFile) { c.RootFS.DiffIDs[0] = cf.RootFS.DiffIDs[0] })
	ref := imagetest.WriteLayout(t, bad)
	cache := filepath.Join(t.TempDir(), "cache")
	code, _, stderr := run(t, map[string]string{"TMPDIR": os.TempDir()}, "", "sbom", "--cache-dir", cache, ref)
	if code != ExitScanFailed || !strings.Contains(stderr, "layer 0 ("+cf.RootFS.DiffIDs[0].String()+")") || !strings.Contains(stderr, "digest mismatch") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
}
