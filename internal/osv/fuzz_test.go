package osv

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"id":"GO-1","affected":[{"package":{"ecosystem":"Go","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1"}]}],"ecosystem_specific":{"imports":[{"symbols":["F"]}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseRecord(data)
		if err != nil {
			return
		}
		if rec.Vulnerability.ID == "" {
			t.Fatal("parsed record without id")
		}
		for _, a := range rec.Affected {
			if a.Ecosystem == "" || a.Package == "" || (len(a.Ranges) == 0 && len(a.Versions) == 0) {
				t.Fatalf("unusable affected record %+v", a)
			}
		}
	})
}
