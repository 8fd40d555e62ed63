package report

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/cvss"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// severityOrder lists severities from the most to the least serious, the
// order every report groups and counts them in.
var severityOrder = []string{
	vuln.SeverityCritical, vuln.SeverityHigh, vuln.SeverityMedium,
	vuln.SeverityLow, vuln.SeverityNegligible, vuln.SeverityUnknown,
}

// target names the place a finding's package was found, the way a reader
// groups findings: the OS for distro packages, else the declaring file.
func target(a inventory.Artifact, p vuln.PackageRef) string {
	switch p.Type {
	case inventory.TypeApk, inventory.TypeDeb, inventory.TypeRPM:
		return osTarget(a.OS)
	}
	kind := p.Type
	if p.Type == inventory.TypeGolang {
		kind = "gobinary"
		if base := path.Base(p.Path); base == "go.mod" || base == "go.sum" {
			kind = "gomod"
		}
	}
	if p.Path == "" {
		return "(" + kind + ")"
	}
	return p.Path + " (" + kind + ")"
}

// osTarget is the target label of OS packages: "alpine 3.10.4 (os)".
func osTarget(o inventory.OS) string {
	if !o.Known() {
		return "unknown OS (os)"
	}
	return strings.TrimSpace(o.Family+" "+o.Version) + " (os)"
}

func isOSType(t string) bool {
	return t == inventory.TypeApk || t == inventory.TypeDeb || t == inventory.TypeRPM
}

// sortedFindings returns the findings ordered as every report lists them:
// OS packages first, then by target path, severity (worst first), id and
// package, so output never depends on the order the matcher produced.
func sortedFindings(fs []vuln.Finding) []vuln.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, compareFindings)
	return out
}

func compareFindings(a, b vuln.Finding) int {
	aOS, bOS := isOSType(a.Package.Type), isOSType(b.Package.Type)
	if aOS != bOS {
		if aOS {
			return -1
		}
		return 1
	}
	return cmp.Or(
		cmp.Compare(a.Package.Path, b.Package.Path),
		cmp.Compare(a.Package.Type, b.Package.Type),
		-cmp.Compare(vuln.SeverityRank(a.Severity), vuln.SeverityRank(b.Severity)),
		cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.Package.Name, b.Package.Name),
		cmp.Compare(a.Package.Version, b.Package.Version),
	)
}

// targetGroup is the findings of one target, in report order.
type targetGroup struct {
	Target   string
	Findings []vuln.Finding
}

// groupByTarget groups sorted findings by target, keeping their order.
func groupByTarget(a inventory.Artifact, fs []vuln.Finding) []targetGroup {
	var groups []targetGroup
	for _, f := range sortedFindings(fs) {
		t := target(a, f.Package)
		if n := len(groups); n > 0 && groups[n-1].Target == t {
			groups[n-1].Findings = append(groups[n-1].Findings, f)
			continue
		}
		groups = append(groups, targetGroup{Target: t, Findings: []vuln.Finding{f}})
	}
	return groups
}

// summarize returns the report's counts recomputed from its content, with
// the gate the policy set; it does not modify r.
func summarize(r *result.Report) result.Summary {
	c := *r
	c.Summarize()
	return c.Summary
}

// representativeScore is the score that stands for a severity when no CVSS
// score of that band is known.
func representativeScore(sev string) float64 {
	switch sev {
	case vuln.SeverityCritical:
		return 9.5
	case vuln.SeverityHigh:
		return 8.0
	case vuln.SeverityMedium:
		return 5.5
	case vuln.SeverityLow:
		return 2.0
	}
	return 0.0
}

// securityScore is a score consistent with the severity Vigil shows: the
// highest CVSS score when its band matches that severity, else the band's
// representative, so a vendor-rated LOW never shows as a 9.8 in GitHub.
func securityScore(f vuln.Finding) float64 {
	if m := f.MaxCVSS(); m > 0 && cvss.SeverityFromScore("3.1", m) == f.Severity {
		return m
	}
	return representativeScore(f.Severity)
}

// fixedIn returns the fixed versions for display.
func fixedIn(f vuln.Finding) string {
	return strings.Join(f.FixedVersions, ", ")
}

// advisoryURL is the canonical web page of an advisory id.
func advisoryURL(id string) string {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "https://nvd.nist.gov/vuln/detail/" + id
	case strings.HasPrefix(id, "GHSA-"):
		return "https://github.com/advisories/" + id
	case strings.HasPrefix(id, "GO-"):
		return "https://pkg.go.dev/vuln/" + id
	}
	return "https://osv.dev/vulnerability/" + id
}

// remediation is the advice shown for a finding: the matcher's own text,
// else an upgrade hint built from the fixed versions and fix state.
func remediation(f vuln.Finding) string {
	if f.Remediation != "" {
		return f.Remediation
	}
	switch {
	case len(f.FixedVersions) > 0:
		return fmt.Sprintf("Upgrade %s to %s or later.", f.Package.Name, f.FixedVersions[0])
	case f.FixState == vuln.FixStateWontFix:
		return "The vendor will not fix this vulnerability; consider mitigations or another package."
	case f.FixState == vuln.FixStateNotFixed:
		return "No fixed version is available yet."
	}
	return "No remediation is known."
}

// title is the finding's one-line summary, with fallbacks.
func title(f vuln.Finding) string {
	if f.Title != "" {
		return oneLine(f.Title)
	}
	if f.Description != "" {
		return truncate(oneLine(f.Description), 120)
	}
	return f.ID
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncate shortens s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}

// violatedChecks are the best-practice checks that found a problem, in code order.
func violatedChecks(cs []result.CheckResult) []result.CheckResult {
	var out []result.CheckResult
	for _, c := range cs {
		if c.Violated() {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b result.CheckResult) int { return cmp.Compare(a.Code, b.Code) })
	return out
}

// sortedSecrets orders secrets by file, line and rule.
func sortedSecrets(ss []result.Secret) []result.Secret {
	out := slices.Clone(ss)
	slices.SortStableFunc(out, func(a, b result.Secret) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule))
	})
	return out
}

// sortedPackages orders packages: OS first, then by path, name, version.
func sortedPackages(ps []inventory.Package) []inventory.Package {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b inventory.Package) int {
		if a.IsOS() != b.IsOS() {
			if a.IsOS() {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version), cmp.Compare(a.Type, b.Type))
	})
	return out
}

// shortDiffID is the first 12 hex digits of a layer diff id.
func shortDiffID(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// gateAtOrAbove counts unsuppressed findings at or above the threshold.
func gateAtOrAbove(fs []vuln.Finding, threshold string) int {
	n := 0
	for _, f := range fs {
		if f.Suppressed == nil && vuln.SeverityRank(f.Severity) >= vuln.SeverityRank(threshold) {
			n++
		}
	}
	return n
}

// gateLine is the one-sentence gate outcome, "" when no gate was evaluated.
func gateLine(r *result.Report) string {
	g := r.Summary.Gate
	if g == nil {
		return ""
	}
	if !g.Failed {
		return "Gate: passed"
	}
	s := "Gate: FAILED"
	if g.Threshold != "" {
		s += fmt.Sprintf(" — %d findings at or above %s", gateAtOrAbove(r.Vulnerabilities, g.Threshold), g.Threshold)
	}
	if len(g.Reasons) > 0 {
		s += " (" + strings.Join(g.Reasons, "; ") + ")"
	}
	return s
}

// artifactName is the image name shown in reports.
func artifactName(a inventory.Artifact) string {
	if a.Name != "" {
		return a.Name
	}
	if a.Digest != "" {
		return a.Digest
	}
	return "image"
}

// stableSortBy sorts s by an integer key, keeping the order of equal keys.
func stableSortBy[T any](s []T, key func(T) int) {
	slices.SortStableFunc(s, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}
