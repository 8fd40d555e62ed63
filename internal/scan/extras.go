package scan

import (
	"cmp"
	"slices"
	"time"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Extras are the stages after matching. Checks and secrets also add their
// layer analyzers to the walk, so they cost no extra pass over the image.
type Extras struct {
	Checks        bool
	CheckOptions  checks.Options
	Secrets       bool
	SecretOptions secrets.Options
	// Policy holds the exceptions (policy file, allow-list, VEX); nil = none.
	Policy *policy.Policy
	Gate   policy.GateOptions
	// Severities, when set, are the only severities shown (--severity):
	// other vulnerabilities and secrets are left out of the report, as
	// in Trivy, and so never reach the gate.
	Severities []string
}

// analyzers returns the package catalogers plus the analyzers the enabled
// extras need.
func (o Options) analyzers() []inventory.Analyzer {
	all := catalog.Packages()
	if o.Checks {
		all = append(all, checks.Analyzer())
	}
	if o.Secrets {
		all = append(all, secrets.Analyzer(o.SecretOptions))
	}
	return all
}

func (e Extras) apply(inv *inventory.Inventory, r *result.Report, now time.Time) {
	if e.Checks {
		var warns []string
		r.Checks, warns = checks.RunWithWarnings(inv, e.CheckOptions)
		r.Warnings = append(r.Warnings, warns...)
	}
	if e.Secrets {
		// The report's copy of the config was masked when the image was
		// read (secrets.RedactConfig); the scan judges the clear one.
		r.Secrets = append(secrets.FromFacts(inv.Files), secrets.ScanConfig(cmp.Or(inv.UnredactedConfig, inv.Artifact.Config))...)
	}
	if len(e.Severities) > 0 {
		r.Vulnerabilities = slices.DeleteFunc(r.Vulnerabilities, func(f vuln.Finding) bool { return !slices.Contains(e.Severities, f.Severity) })
		r.Secrets = slices.DeleteFunc(r.Secrets, func(s result.Secret) bool { return !slices.Contains(e.Severities, s.Severity) })
	}
	// Inventories from the image reader are masked already; one read back
	// from JSON written elsewhere, or built by a caller, may not be.
	// Masking twice changes nothing.
	secrets.RedactReport(r)
	if e.Policy != nil {
		r.Warnings = append(r.Warnings, e.Policy.Apply(r, now)...)
	}
	r.Summarize()
	gate := policy.Evaluate(r, e.Gate)
	r.Summary.Gate = &gate
}
