package report

import (
	"io"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/result"
)

// Azure/container-scan's scanreport.json, field for field, so workflows and
// Azure/publish-security-assessments that read it keep working.

type containerScanReport struct {
	ImageName                  string                   `json:"imageName"`
	Vulnerabilities            []containerScanVuln      `json:"vulnerabilities"`
	BestPracticeViolations     []containerScanViolation `json:"bestPracticeViolations"`
	VulnerabilityScanTimestamp string                   `json:"vulnerabilityScanTimestamp"`
}

type containerScanVuln struct {
	VulnerabilityID string `json:"vulnerabilityId"`
	PackageName     string `json:"packageName"`
	Severity        string `json:"severity"`
	Description     string `json:"description"`
	Target          string `json:"target"`
}

type containerScanViolation struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	Level string `json:"level"`
	// Alerts is the first alert only: container-scan keeps alerts[0].
	Alerts string `json:"alerts"`
}

func writeContainerScan(w io.Writer, r *result.Report, _ Options) error {
	out := containerScanReport{
		ImageName:                  artifactName(r.Artifact),
		Vulnerabilities:            []containerScanVuln{},
		BestPracticeViolations:     []containerScanViolation{},
		VulnerabilityScanTimestamp: r.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	for _, f := range sortedFindings(r.Vulnerabilities) {
		if f.Suppressed != nil {
			continue
		}
		desc := f.Description
		if desc == "" {
			desc = f.Title
		}
		out.Vulnerabilities = append(out.Vulnerabilities, containerScanVuln{
			VulnerabilityID: f.ID, PackageName: f.Package.Name, Severity: f.Severity,
			Description: desc, Target: target(r.Artifact, f.Package),
		})
	}
	for _, c := range violatedChecks(r.Checks) {
		if c.Suppressed != nil {
			continue
		}
		alert := ""
		if len(c.Alerts) > 0 {
			alert = c.Alerts[0]
		}
		out.BestPracticeViolations = append(out.BestPracticeViolations, containerScanViolation{
			Code: c.Code, Title: c.Title, Level: strings.ToUpper(c.Level), Alerts: alert,
		})
	}
	if r.CreatedAt.IsZero() {
		out.VulnerabilityScanTimestamp = time.Unix(0, 0).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return encodeIndented(w, out, "  ")
}
