package report

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/vigil-scan/vigil/internal/result"
)

// INFO checks are advice: skipped test cases with a note, never failures;
// WARN and FATAL fail.
func TestJUnitInfoChecksDoNotFail(t *testing.T) {
	r := &result.Report{Checks: []result.CheckResult{
		{Code: "CIS-DI-0006", Title: "Add HEALTHCHECK", Level: result.LevelInfo, Alerts: []string{"no HEALTHCHECK"}},
		{Code: "CIS-DI-0001", Title: "Create a user", Level: result.LevelWarn, Alerts: []string{"last user is root"}},
		{Code: "DKL-DI-0001", Title: "Avoid sudo", Level: result.LevelFatal, Alerts: []string{"RUN sudo x"}},
		{Code: "DKL-DI-0005", Title: "Clear apt caches", Level: result.LevelPass},
	}}
	var buf bytes.Buffer
	if err := Write(&buf, "junit", r, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Failures != 2 || doc.Suites[0].Skipped != 1 {
		t.Fatalf("suites %+v", doc.Suites)
	}
	for _, c := range doc.Suites[0].Cases {
		info := bytes.Contains([]byte(c.Name), []byte("CIS-DI-0006"))
		if info && (c.Failure != nil || c.Skipped == nil || !bytes.Contains([]byte(c.Skipped.Message), []byte("no HEALTHCHECK"))) {
			t.Errorf("INFO case %+v", c)
		}
	}
}
