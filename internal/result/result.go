// Package result owns the plain data type of a finished scan, Report, which
// the engine produces, policies annotate, reports render, `vigil publish`
// sends and the server stores. It has no behaviour beyond small helpers.
package result

import (
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// SchemaVersion of the JSON report (docs/schema.md). It extends the
// inventory schema with vulnerabilities, checks, secrets and a summary.
const SchemaVersion = "1.0.0"

// Check levels, Dockle's vocabulary.
const (
	LevelFatal = "FATAL"
	LevelWarn  = "WARN"
	LevelInfo  = "INFO"
	LevelPass  = "PASS"
	LevelSkip  = "SKIP"
)

// CheckResult is the outcome of one best-practice rule (CIS-DI-*, DKL-*).
type CheckResult struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	// Level is FATAL, WARN or INFO when the rule is violated, PASS when not.
	Level  string   `json:"level"`
	Alerts []string `json:"alerts,omitempty"`
	// Suppressed is set when an allow-list accepts the violation.
	Suppressed *vuln.Suppression `json:"suppressed,omitempty"`
}

// Violated reports whether the rule found a problem.
func (c CheckResult) Violated() bool {
	return c.Level == LevelFatal || c.Level == LevelWarn || c.Level == LevelInfo
}

// Secret is a credential found in a layer file or the image config. Match
// is always redacted.
type Secret struct {
	Rule     string `json:"rule"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	// Path is the file, or "config:Env" / "config:Labels" for the image config.
	Path       string              `json:"path"`
	Line       int                 `json:"line,omitempty"`
	Match      string              `json:"match"`
	Layer      *inventory.LayerRef `json:"layer,omitempty"`
	Suppressed *vuln.Suppression   `json:"suppressed,omitempty"`
}

// Gate is the outcome of the severity threshold and policy.
type Gate struct {
	Threshold string   `json:"threshold,omitempty"`
	Failed    bool     `json:"failed"`
	Reasons   []string `json:"reasons,omitempty"`
}

// Summary counts what the report contains; suppressed items are counted
// separately and not in BySeverity.
type Summary struct {
	BySeverity map[string]int `json:"by_severity"`
	Total      int            `json:"total"`
	Fixable    int            `json:"fixable"`
	Suppressed int            `json:"suppressed"`
	Checks     map[string]int `json:"checks,omitempty"`
	Secrets    int            `json:"secrets"`
	// NotJudged counts Report.NotJudged.
	NotJudged int   `json:"not_judged,omitempty"`
	Gate      *Gate `json:"gate,omitempty"`
}

// DBInfo says which vulnerability DB the findings come from.
type DBInfo struct {
	SchemaVersion int       `json:"schema_version"`
	Built         time.Time `json:"built"`
	Path          string    `json:"path,omitempty"`
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Report is a complete scan result: inventory, findings, checks, secrets.
type Report struct {
	SchemaVersion   string              `json:"schema_version"`
	Tool            Tool                `json:"tool"`
	CreatedAt       time.Time           `json:"created_at"`
	Artifact        inventory.Artifact  `json:"artifact"`
	Packages        []inventory.Package `json:"packages"`
	Vulnerabilities []vuln.Finding      `json:"vulnerabilities"`
	Checks          []CheckResult       `json:"checks,omitempty"`
	Secrets         []Secret            `json:"secrets,omitempty"`
	Summary         Summary             `json:"summary"`
	DB              *DBInfo             `json:"db,omitempty"`
	// NotJudged lists what the scan could not judge (no data for the OS
	// release, an end-of-life release, ...); absent when nothing.
	NotJudged []NotJudged `json:"not_judged,omitempty"`
	Warnings  []string    `json:"warnings,omitempty"`
}

// Summarize recomputes r.Summary's counts (the gate is left as it is).
func (r *Report) Summarize() {
	gate := r.Summary.Gate
	s := Summary{BySeverity: map[string]int{}, Gate: gate}
	for _, sev := range []string{vuln.SeverityCritical, vuln.SeverityHigh, vuln.SeverityMedium, vuln.SeverityLow, vuln.SeverityNegligible, vuln.SeverityUnknown} {
		s.BySeverity[sev] = 0
	}
	for _, f := range r.Vulnerabilities {
		if f.Suppressed != nil {
			s.Suppressed++
			continue
		}
		s.BySeverity[f.Severity]++
		s.Total++
		if f.FixState == vuln.FixStateFixed && len(f.FixedVersions) > 0 {
			s.Fixable++
		}
	}
	for _, c := range r.Checks {
		if c.Violated() && c.Suppressed == nil {
			if s.Checks == nil {
				s.Checks = map[string]int{}
			}
			s.Checks[c.Level]++
		}
	}
	for _, sec := range r.Secrets {
		if sec.Suppressed == nil {
			s.Secrets++
		}
	}
	s.NotJudged = len(r.NotJudged)
	r.Summary = s
}
