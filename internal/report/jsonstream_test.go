package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// writeReportJSON must write what encodeIndented of the whole report
// writes, byte for byte: the fixture report, its empty and nil lists, and
// a report whose strings hold the keys it looks for.
func TestWriteReportJSONMatchesWhole(t *testing.T) {
	full := reporttest.Report()
	empty := reporttest.Report()
	empty.Packages, empty.Vulnerabilities = []inventory.Package{}, []vuln.Finding{}
	none := reporttest.Report()
	none.Packages, none.Vulnerabilities = nil, nil
	tricky := reporttest.Report()
	tricky.Artifact.Name = `x","packages":null,"vulnerabilities":null,"<&>`
	tricky.Warnings = []string{`"packages":null,"vulnerabilities":null`, "\u2028"}
	for name, r := range map[string]*result.Report{"full": full, "empty": empty, "nil": none, "tricky": tricky} {
		checkReportJSON(t, name, r)
	}
}

// The corpus reports: every JSON report the golden tests keep.
func TestWriteReportJSONGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.json")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r result.Report
		if json.Unmarshal(b, &r) != nil || r.SchemaVersion == "" {
			continue
		}
		checkReportJSON(t, f, &r)
		n++
	}
	if n == 0 {
		t.Fatal("no JSON report among testdata/golden")
	}
}

func checkReportJSON(t *testing.T, name string, r *result.Report) {
	t.Helper()
	var want, got bytes.Buffer
	if err := encodeIndented(&want, r, "  "); err != nil {
		t.Fatal(err)
	}
	if err := writeReportJSON(&got, r); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("%s: streamed report differs:\n%s\nwant\n%s", name, got.String(), want.String())
	}
}
