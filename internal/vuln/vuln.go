// Package vuln owns the data types of vulnerability knowledge shared by the
// feed parsers, the vulnerability DB, the matcher and the reports: an
// advisory, what it affects, and the findings that result from matching.
package vuln

import (
	"strings"
	"time"
)

// FixState says what the distribution or ecosystem did about a
// vulnerability in a package.
type FixState string

const (
	// Fixed: a fixed version exists.
	FixStateFixed FixState = "fixed"
	// NotFixed: affected, no fix published yet.
	FixStateNotFixed FixState = "not-fixed"
	// WontFix: the vendor decided not to fix (Debian no-DSA, ignored, ...).
	FixStateWontFix FixState = "wont-fix"
	// NotAffected: the vendor states this release was never affected.
	FixStateNotAffected FixState = "not-affected"
	// EndOfLife: the release or package is out of support.
	FixStateEndOfLife FixState = "end-of-life"
	// Unknown: the feed says nothing either way.
	FixStateUnknown FixState = "unknown"
)

// Severity levels, in increasing order.
const (
	SeverityUnknown    = "UNKNOWN"
	SeverityNegligible = "NEGLIGIBLE"
	SeverityLow        = "LOW"
	SeverityMedium     = "MEDIUM"
	SeverityHigh       = "HIGH"
	SeverityCritical   = "CRITICAL"
)

// SeverityRank orders severities; unknown strings rank as UNKNOWN (0).
func SeverityRank(s string) int {
	switch s {
	case SeverityNegligible:
		return 1
	case SeverityLow:
		return 2
	case SeverityMedium:
		return 3
	case SeverityHigh:
		return 4
	case SeverityCritical:
		return 5
	}
	return 0
}

// NormalizeSeverity maps a vendor's severity word (GHSA, NVD, Red Hat
// family, Debian urgency) onto the Severity* constants, case-insensitively;
// "" when the word is unknown.
func NormalizeSeverity(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return SeverityCritical
	case "important", "high":
		return SeverityHigh
	case "moderate", "medium":
		return SeverityMedium
	case "low":
		return SeverityLow
	case "negligible", "unimportant", "none":
		return SeverityNegligible
	}
	return ""
}

// CVSS is one CVSS vector with its computed base score.
type CVSS struct {
	// Version is "2.0", "3.0", "3.1" or "4.0".
	Version string  `json:"version"`
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
	// Source says who published the vector ("nvd", "ghsa", "osv", a distro).
	Source string `json:"source,omitempty"`
}

// Vulnerability is an advisory's descriptive record: everything about it
// except what it affects.
type Vulnerability struct {
	ID      string   `json:"id"`
	Aliases []string `json:"aliases,omitempty"`
	// Related are ids of advisories about the same flaw in other
	// ecosystems (OSV "related"); they are not merged.
	Related    []string  `json:"related,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	Details    string    `json:"details,omitempty"`
	CVSS       []CVSS    `json:"cvss,omitempty"`
	References []string  `json:"references,omitempty"`
	Published  time.Time `json:"published,omitzero"`
	Modified   time.Time `json:"modified,omitzero"`
	Withdrawn  time.Time `json:"withdrawn,omitzero"`
	// Source is the feed the record came from (e.g. "osv:Go", "alpine-secdb").
	Source string `json:"source"`
}

// Range is an OSV-style affected range: a list of events in order.
type Range struct {
	// Type is "ECOSYSTEM" or "SEMVER" (GIT ranges are dropped at import
	// unless explicit versions accompany them).
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Affected says which versions of one package in one ecosystem a
// vulnerability affects.
type Affected struct {
	VulnID string `json:"vuln_id"`
	Source string `json:"source"`
	// Ecosystem is the OSV ecosystem, with the release for distributions:
	// "Go", "PyPI", "Alpine:v3.10", "Debian:12", "AlmaLinux:9".
	Ecosystem string `json:"ecosystem"`
	// Package is the normalised package name: the source package for
	// Debian and the origin for Alpine; PEP 503 for PyPI; group:artifact for
	// Maven; the module path for Go.
	Package  string   `json:"package"`
	Ranges   []Range  `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
	FixState FixState `json:"fix_state"`
	// Severity is the vendor's severity for this package/release when the
	// feed gives one (Debian urgency, AlmaLinux severity), normalised to the
	// Severity* constants.
	Severity string `json:"severity,omitempty"`
	// Symbols are affected functions (Go), kept for reports.
	Symbols []string `json:"symbols,omitempty"`
	// Note is a vendor remark (no-DSA reason, ...).
	Note string `json:"note,omitempty"`
	// Advisory is the vendor advisory that published this release's fix
	// (DSA-5103-1 for buster), when the feed is a list of advisories.
	Advisory string `json:"advisory,omitempty"`
}

// Exploit-prediction and known-exploitation data for a CVE.
type EPSS struct {
	Score      float64 `json:"score"`
	Percentile float64 `json:"percentile"`
	Date       string  `json:"date,omitempty"`
}

// KEV is a CISA Known Exploited Vulnerabilities catalog entry.
type KEV struct {
	DateAdded                  string `json:"date_added"`
	DueDate                    string `json:"due_date,omitempty"`
	RequiredAction             string `json:"required_action,omitempty"`
	KnownRansomwareCampaignUse string `json:"known_ransomware_campaign_use,omitempty"`
}
