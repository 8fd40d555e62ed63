package vulndb

import (
	"slices"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// mergeVulnerability folds b into a: lists are unioned, the longest summary
// and details win, and times fill in when a has none.
func mergeVulnerability(a, b vuln.Vulnerability) vuln.Vulnerability {
	a.Aliases = union(a.Aliases, b.Aliases)
	a.Related = union(a.Related, b.Related)
	a.References = union(a.References, b.References)
	a.CVSS = unionCVSS(a.CVSS, b.CVSS)
	if len(b.Summary) > len(a.Summary) {
		a.Summary = b.Summary
	}
	if len(b.Details) > len(a.Details) {
		a.Details = b.Details
	}
	if a.Published.IsZero() || (!b.Published.IsZero() && b.Published.Before(a.Published)) {
		a.Published = b.Published
	}
	if b.Modified.After(a.Modified) {
		a.Modified = b.Modified
	}
	if a.Withdrawn.IsZero() {
		a.Withdrawn = b.Withdrawn
	}
	if a.Source == "" {
		a.Source = b.Source
	}
	return a
}

// mergeEnrichment sets the fields of b that are non-zero over a.
func mergeEnrichment(a, b vuln.Enrichment) vuln.Enrichment {
	a.CVSS = unionCVSS(a.CVSS, b.CVSS)
	if b.NVDSeverity != "" {
		a.NVDSeverity = b.NVDSeverity
	}
	if b.EPSS != nil {
		a.EPSS = b.EPSS
	}
	if b.KEV != nil {
		a.KEV = b.KEV
	}
	return a
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func unionCVSS(a, b []vuln.CVSS) []vuln.CVSS {
	for _, c := range b {
		if !slices.ContainsFunc(a, func(x vuln.CVSS) bool { return x.Vector == c.Vector && x.Source == c.Source }) {
			a = append(a, c)
		}
	}
	return a
}
