package server

import (
	"testing"

	"github.com/vigil-scan/vigil/internal/harbor"
)

// Harbor's Accept header picks the report type: parameters compare as
// mime parses them (case, spaces), a q weight is ignored, */* and no
// header mean Harbor's own type, anything else is not produced.
func TestHarborReportType(t *testing.T) {
	for _, c := range []struct {
		accept, want string
		ok           bool
	}{
		{"", harbor.MimeVulnReportHarbor, true},
		{"*/*", harbor.MimeVulnReportHarbor, true},
		{"*/*; q=0.1", harbor.MimeVulnReportHarbor, true},
		{harbor.MimeVulnReport, harbor.MimeVulnReport, true},
		{"application/vnd.security.vulnerability.report;version=1.1", harbor.MimeVulnReport, true},
		{"Application/VND.Security.Vulnerability.Report; Version=1.1", harbor.MimeVulnReport, true},
		{"application/vnd.security.vulnerability.report; version=1.1; q=0.9", harbor.MimeVulnReport, true},
		{"text/html, " + harbor.MimeSBOMReport, harbor.MimeSBOMReport, true},
		{harbor.MimeVulnReportRaw, harbor.MimeVulnReportRaw, true},
		{"Application/Vnd.Scanner.Adapter.Vuln.Report.Raw", harbor.MimeVulnReportRaw, true},
		{"application/vnd.security.vulnerability.report; version=1.0", "", false},
		{"application/vnd.security.vulnerability.report", "", false},
		{"text/html", "", false},
		{";;;", "", false},
	} {
		got, ok := reportType(c.accept)
		if got != c.want || ok != c.ok {
			t.Errorf("reportType(%q) = %q, %v; want %q, %v", c.accept, got, ok, c.want, c.ok)
		}
	}
}
