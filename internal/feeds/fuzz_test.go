package feeds

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		if data, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(data)
		}
	}
}

func FuzzParseEPSS(f *testing.F) {
	addSeeds(f, "epss.csv", "epss_scores-current.csv.gz")
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseEPSS(context.Background(), bytes.NewReader(data), enrichSink{})
	})
}

func FuzzParseKEV(f *testing.F) {
	addSeeds(f, "kev.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseKEV(context.Background(), bytes.NewReader(data), enrichSink{})
	})
}

func FuzzParseNVDPage(f *testing.F) {
	addSeeds(f, "nvd-page.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		s := enrichSink{}
		n, _, err := ParseNVDPage(context.Background(), bytes.NewReader(data), s)
		if err == nil && len(s) > n {
			t.Fatalf("%d enrichments for %d CVEs", len(s), n)
		}
	})
}
