package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
)

func notJudgedReport(gateFailed bool) *result.Report {
	r := reporttest.Report()
	r.NotJudged = []result.NotJudged{
		{Scope: result.ScopeOS, Target: "alpine 3.20.3", Ecosystem: "Alpine:v3.20", Reason: result.NotJudgedNoData, Packages: 14,
			Message: "the vulnerability DB has no advisories for alpine 3.20.3 (Alpine:v3.20): 14 packages were not checked"},
		{Scope: result.ScopeOS, Target: "alpine 3.20.3", Ecosystem: "Alpine:v3.20", Reason: result.NotJudgedEndOfLife, Packages: 14, Since: "2026-04-01",
			Source: "https://alpinelinux.org/releases/", Message: "alpine 3.20.3 reached end of life on 2026-04-01"},
	}
	r.Summarize()
	if gateFailed {
		r.Summary.Gate = &result.Gate{Failed: true, Reasons: []string{"not judged (--fail-on-unsupported): " + result.NotJudgedSummary(r.NotJudged)}}
	}
	return r
}

// Every format says what was not judged, and the structured formats stay
// valid against their schemas.
func TestNotJudgedInEveryFormat(t *testing.T) {
	r := notJudgedReport(true)
	schemas := map[string]func() []string{
		"sarif": func() []string { return []string{corpus.Path(t, "schemas", "sarif-schema-2.1.0.json")} },
		"cyclonedx": func() []string {
			dir := filepath.Dir(corpus.Path(t, "schemas", "bom-1.6.schema.json"))
			return []string{filepath.Join(dir, "bom-1.6.schema.json"), filepath.Join(dir, "spdx.schema.json"), filepath.Join(dir, "jsf-0.82.schema.json")}
		},
		"spdx-json": func() []string { return []string{filepath.Join("testdata", "schemas", "spdx-schema-2.3.json")} },
		"gitlab": func() []string {
			return []string{filepath.Join("testdata", "schemas", "container-scanning-report-format-15.2.4.json")}
		},
	}
	for _, format := range Formats() {
		if format == "containerscan" {
			continue // Azure's scanreport.json has no field for it
		}
		var buf bytes.Buffer
		if err := Write(&buf, format, r, Options{}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "alpine 3.20.3") || !strings.Contains(out, "no-data") || !strings.Contains(out, "end-of-life") {
			t.Errorf("%s does not say what was not judged:\n%s", format, out)
		}
		if files, ok := schemas[format]; ok {
			fs := files()
			validate(t, compileSchema(t, fs[0], fs[1:]...), buf.Bytes())
		}
	}
}

func TestNotJudgedStructured(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "json", notJudgedReport(false), Options{}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		NotJudged []result.NotJudged `json:"not_judged"`
		Summary   struct {
			NotJudged int `json:"not_judged"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.NotJudged) != 2 || got.NotJudged[0].Reason != result.NotJudgedNoData || got.NotJudged[0].Packages != 14 || got.Summary.NotJudged != 2 {
		t.Errorf("json not_judged %+v summary %d", got.NotJudged, got.Summary.NotJudged)
	}

	buf.Reset()
	if err := Write(&buf, "sarif", notJudgedReport(false), Options{}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Level      string `json:"level"`
					Descriptor struct {
						ID string `json:"id"`
					} `json:"descriptor"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	inv := log.Runs[0].Invocations
	if len(inv) != 1 || len(inv[0].ToolExecutionNotifications) != 2 || inv[0].ToolExecutionNotifications[0].Descriptor.ID != "vigil/not-judged/no-data" {
		t.Errorf("sarif invocations %+v", inv)
	}

	// The table opens with the block; JUnit fails the cases when the gate
	// failed on them and skips them otherwise.
	buf.Reset()
	Write(&buf, "table", notJudgedReport(false), Options{})
	if !strings.Contains(buf.String(), "\nNot judged: alpine 3.20.3 (no-data)") || !strings.Contains(buf.String(), "            alpine 3.20.3 (end-of-life)") {
		t.Errorf("table header:\n%s", buf.String())
	}
	for _, failed := range []bool{false, true} {
		buf.Reset()
		Write(&buf, "junit", notJudgedReport(failed), Options{})
		if got := strings.Contains(buf.String(), `type="NOT-JUDGED"`); got != failed {
			t.Errorf("junit failure for not-judged with gate failed=%v: %v", failed, got)
		}
	}
}

// The table header says what was not judged, each entry wrapped to the
// width, at 80 and 120 columns.
func TestNotJudgedTableGolden(t *testing.T) {
	r := notJudgedReport(false)
	r.Warnings = append(r.Warnings,
		"busybox  (Alpine:v3.20): no version; not matched",
		"alpine 3.20.3 packages skipped: no version rules for ecosystem \"Alpine:v3.20\"") // covered by an entry: not repeated
	for _, width := range []int{80, 120} {
		var buf bytes.Buffer
		if err := Write(&buf, "table", r, Options{Width: width}); err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(buf.String(), "\n\n")
		for _, l := range strings.Split(head, "\n") {
			if n := len([]rune(l)); n > width {
				t.Errorf("width %d: header line of %d columns: %q", width, n, l)
			}
		}
		if strings.Count(head, "no version rules") != 0 || !strings.Contains(head, "1 package with no comparable version") {
			t.Errorf("width %d: header:\n%s", width, head)
		}
		path := filepath.Join("testdata", "golden", fmt.Sprintf("table-notjudged-%d.txt", width))
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs from golden file; run `go test ./internal/report -update` and review the diff\ngot:\n%s", path, buf.String())
		}
	}
}
