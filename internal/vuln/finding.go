package vuln

import (
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// PackageRef is the part of a package a finding reports.
type PackageRef struct {
	Name      string                   `json:"name"`
	Version   string                   `json:"version"`
	Type      string                   `json:"type"`
	Ecosystem string                   `json:"ecosystem"`
	PURL      string                   `json:"purl"`
	Path      string                   `json:"path,omitempty"`
	Source    *inventory.SourcePackage `json:"source,omitempty"`
}

// Finding is one vulnerability in one package: the unit every report,
// gate and exception works on. Aliases of the same flaw are merged into one
// finding whose ID is the CVE when there is one.
type Finding struct {
	ID      string   `json:"id"`
	Aliases []string `json:"aliases,omitempty"`
	// Advisories are the vendor advisories that fix it (DSA-5103-1,
	// DLA-2952-1, ALSA-2024:0248, ...): related to the flaw, not aliases.
	Advisories  []string   `json:"advisories,omitempty"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Package     PackageRef `json:"package"`
	// FixedVersions are the versions that fix it, lowest first.
	FixedVersions []string `json:"fixed_versions,omitempty"`
	FixState      FixState `json:"fix_state"`
	Severity      string   `json:"severity"`
	// SeveritySource is "vendor:<distro>", "cvss:<version>" or the feed name.
	SeveritySource string              `json:"severity_source"`
	CVSS           []CVSS              `json:"cvss,omitempty"`
	Remediation    string              `json:"remediation,omitempty"`
	References     []string            `json:"references,omitempty"`
	Published      time.Time           `json:"published,omitzero"`
	Modified       time.Time           `json:"modified,omitzero"`
	EPSS           *EPSS               `json:"epss,omitempty"`
	KEV            *KEV                `json:"kev,omitempty"`
	Layer          *inventory.LayerRef `json:"layer,omitempty"`
	// DataSources are the feeds that contributed (after alias merging).
	DataSources []string `json:"data_sources,omitempty"`
	// Suppressed is set when a policy rule or VEX statement hides the
	// finding; it stays in JSON output with the reason.
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// Annotations are non-suppressing notes (VEX under_investigation, ...).
	Annotations []string `json:"annotations,omitempty"`
}

// Suppression records why a finding is not counted.
type Suppression struct {
	// Kind is "policy", "allowlist", "vex", "ignorefile" or "os-package".
	Kind string `json:"kind"`
	// Rule identifies the rule: file:line of the policy entry, the VEX
	// document and statement, or "<type>:<name>" of the owning OS package.
	Rule          string    `json:"rule"`
	Reason        string    `json:"reason,omitempty"`
	Justification string    `json:"justification,omitempty"`
	Status        string    `json:"status,omitempty"`
	Expires       time.Time `json:"expires,omitzero"`
	// Owner is the OS package that installed the package (kind os-package).
	Owner *inventory.Owner `json:"owner,omitempty"`
}

// MaxCVSS returns the highest base score among the finding's vectors (0 if none).
func (f Finding) MaxCVSS() float64 {
	m := 0.0
	for _, c := range f.CVSS {
		if c.Score > m {
			m = c.Score
		}
	}
	return m
}
