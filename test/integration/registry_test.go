package integration

import (
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
)

// A real registry (go-containerregistry's in-process implementation of the
// distribution API), pushed to with remote.Write and scanned by tag and by
// digest over plain HTTP.
func TestScanFromRegistry(t *testing.T) {
	setup(t)
	host := imagetest.Registry(t)
	img := vulnerableImage(t)
	tag := imagetest.Push(t, img, host+"/shop/api:1.0")
	digest, _ := img.Digest()
	dir := t.TempDir()
	for _, ref := range []string{tag.String(), host + "/shop/api@" + digest.String()} {
		res := vigil(t, dir, nil, "image", ref, "--insecure-registry", "--format", "json=r.json", "--severity-threshold", "HIGH")
		if res.code != 1 {
			t.Fatalf("%s: want exit 1 (HIGH urllib3/idna CVEs):\n%s", ref, res)
		}
		r := readReport(t, filepath.Join(dir, "r.json"))
		if r.Artifact.Digest != digest.String() {
			t.Errorf("%s: digest = %q, want %s", ref, r.Artifact.Digest, digest)
		}
		if len(r.Packages) < 14+3 || len(r.Vulnerabilities) == 0 {
			t.Errorf("%s: %d packages, %d findings", ref, len(r.Packages), len(r.Vulnerabilities))
		}
	}
}
