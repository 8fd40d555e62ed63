package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/result"
)

// TestTableSaysVulnerabilitiesNotScanned: a `vigil lint` report (no DB, no
// findings) does not end with "Total: 0 (CRITICAL: 0, …)", which reads
// like a clean image; a scanned image with no findings still does.
func TestTableSaysVulnerabilitiesNotScanned(t *testing.T) {
	lint := &result.Report{SchemaVersion: result.SchemaVersion, Checks: []result.CheckResult{
		{Code: "CIS-DI-0001", Title: "Create a user for the container", Level: result.LevelWarn, Alerts: []string{"last USER is not set"}}}}
	var buf bytes.Buffer
	if err := Write(&buf, "table", lint, Options{}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "Vulnerabilities: not scanned") || strings.Contains(out, "Total:") || strings.Contains(out, "Not judged") || !strings.Contains(out, "CIS-DI-0001") {
		t.Errorf("lint table:\n%s", out)
	}
	scanned := &result.Report{SchemaVersion: result.SchemaVersion, DB: &result.DBInfo{Built: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}}
	buf.Reset()
	if err := Write(&buf, "table", scanned, Options{}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Contains(out, "not scanned") || !strings.Contains(out, "Total: 0 (") {
		t.Errorf("scanned table:\n%s", out)
	}
}
