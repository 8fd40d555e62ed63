package sbomin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

// sameAsWhole checks that ReadFile (which streams CycloneDX JSON) gives
// what reading the same bytes whole gives: the same inventory or the same
// error.
func sameAsWhole(t *testing.T, b []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	whole, werr := read(context.Background(), bytes.NewReader(b), MaxBytes)
	streamed, serr := ReadFile(context.Background(), p)
	if werr != nil || serr != nil {
		if werr == nil || serr == nil || p+": "+werr.Error() != serr.Error() {
			t.Fatalf("whole: %v\nReadFile: %v", werr, serr)
		}
		return
	}
	if !reflect.DeepEqual(whole, streamed) {
		t.Fatalf("whole:\n%+v\nReadFile:\n%+v", whole, streamed)
	}
}

func cdxSeeds(t testing.TB) [][]byte {
	var out [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, format := range []string{"cyclonedx", "spdx-json", "json"} {
		var buf bytes.Buffer
		if err := report.Write(&buf, format, reporttest.Report(), report.Options{}); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

func TestCycloneDXStreamSameAsWhole(t *testing.T) {
	const head = `{"bomFormat": "CycloneDX", "specVersion": "1.5", `
	inputs := append(cdxSeeds(t),
		[]byte(head+`"components": [{"type": "library", "name": 7}]}`),
		[]byte(head+`"components": 5}`),
		[]byte(head+`"components": [{"type": "library", "name": "a", "purl": "pkg:npm/a@1"}], "dependencies": [{"ref": 5}]}`),
		[]byte(head+`"components": [{"type": "library", "name": "a", "purl": "pkg:npm/a@1"}]} trailing`),
		[]byte(head+`"components": [{"type": "library", "name": "a", "purl": "pkg:npm/a@1"}], "components": []}`),
		[]byte(`{"components": [{"type": "operating-system", "name": "alpine", "version": "3.20.3"}, {"type": "library", "name": "a", "purl": "pkg:apk/alpine/a@1-r0", "components": [{"type": "library", "name": "b", "purl": "pkg:apk/alpine/b@2-r0"}]}],
		  "metadata": {"component": {"type": "container", "name": "app", "version": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}, "tools": {"components": [{"name": "vigil"}]}},
		  "bomFormat": "CycloneDX", "specVersion": "1.6"}`),
		[]byte(head+`"components": [{"type": "library", "name": "a", "purl": "pkg:npm/a@1"}`),
		[]byte("\xef\xbb\xbf"+head+`"components": []}`),
		[]byte(`{"bomFormat": "CycloneDX", "specVersion": "1.1", "components": []}`),
		[]byte(`{"schema_version": "1", "tool": {"name": "vigil"}, "artifact": {"name": "x", "layers": [{"index": 0}]}, "vulnerabilities": [{"id": 5}], "packages": [{"name": "a", "type": "npm", "layer": {"index": 3}}]}`),
		[]byte(`{"schema_version": "1", "tool": {"name": "vigil"}, "packages": [{"name": "", "type": "npm"}]}`),
		[]byte(`{"schema_version": "1", "tool": {"name": "other"}, "packages": [{"name": "a", "type": "npm"}]}`),
		[]byte(`{"tool": {"name": "vigil"}, "packages": [{"name": "a", "type": "npm"}]}`),
		[]byte(`{"schema_version": "1", "tool": {"name": "vigil"}, "packages": null}`),
		[]byte(`{"schema_version": "1", "tool": {"name": "vigil"}, "packages": [{"name": "a", "type": 5}]}`),
		[]byte(`{"schema_version": "1", "tool": {"name": "vigil"}, "packages": [{"name": "a", "type": "npm"}], "packages": []}`),
		[]byte(`{"packages": [{"name": "a", "type": "npm", "version": "1"}], "artifact": {"name": "late"}, "tool": {"name": "vigil", "version": "x"}, "schema_version": "1"}`),
	)
	for i, b := range inputs {
		t.Run(strings.ReplaceAll(string(b[:min(len(b), 30)]), "/", "_")+"_"+string(rune('a'+i%26)), func(t *testing.T) {
			sameAsWhole(t, b)
		})
	}
}

// CycloneDX JSON fixtures of other tools take the streaming path.
func TestCycloneDXStreamed(t *testing.T) {
	for _, name := range []string{"trivy-alpine.cdx.json", "syft-debian.cdx.json"} {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := streamCycloneDXJSON(context.Background(), f)
		f.Close()
		if err != nil || len(doc.pkgs.pkgs) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Vigil's own JSON takes its streaming path.
func TestVigilJSONStreamed(t *testing.T) {
	var buf bytes.Buffer
	if err := report.Write(&buf, "json", reporttest.Report(), report.Options{}); err != nil {
		t.Fatal(err)
	}
	inv, err := streamVigilJSON(context.Background(), &buf)
	if err != nil || len(inv.Packages) == 0 {
		t.Fatalf("%v", err)
	}
}

func FuzzCycloneDXStream(f *testing.F) {
	for _, b := range cdxSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsWhole(t, b)
	})
}
