package checks_test

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
)

// buildImage makes an image from the steps and config, writes it as a
// docker-archive and reads it back with the checks analyzer.
func buildImage(t *testing.T, steps []imagetest.Step, cfg v1.Config) *inventory.Inventory {
	t.Helper()
	img := imagetest.Build(t, empty.Image, func(c *v1.Config) { *c = cfg }, steps...)
	img = imagetest.EditConfigFile(t, img, func(cf *v1.ConfigFile) { cf.OS, cf.Architecture = "linux", "amd64" })
	return readImage(t, imagetest.WriteDockerArchive(t, img, "example.test/checks:test"))
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
