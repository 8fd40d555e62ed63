package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

const defaultMarkdownRows = 50

// mdCell escapes text for a GitHub-flavoured markdown table cell.
func mdCell(s string) string {
	s = oneLine(s)
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "`", "'")
	return r.Replace(s)
}

// writeMarkdown renders a summary for pull-request comments and
// $GITHUB_STEP_SUMMARY: gate, counts, the worst findings, checks, secrets.
func writeMarkdown(w io.Writer, r *result.Report, opts Options) error {
	ew := &errWriter{w: w}
	sum := summarize(r)
	status := ""
	if g := r.Summary.Gate; g != nil {
		status = " — ✅ passed"
		if g.Failed {
			status = " — ❌ failed"
		}
	}
	ew.printf("## Vigil scan: `%s`%s\n\n", mdCell(artifactName(r.Artifact)), status)
	if r.Artifact.OS.Known() {
		ew.printf("OS: %s · Packages: %d\n\n", mdCell(strings.TrimSpace(r.Artifact.OS.Family+" "+r.Artifact.OS.Version)), len(r.Packages))
	}
	if opts.SBOMOnly {
		ew.printf("| Package | Version | Type | Path |\n| --- | --- | --- | --- |\n")
		for _, p := range sortedPackages(r.Packages) {
			ew.printf("| %s | %s | %s | %s |\n", mdCell(p.Name), mdCell(p.Version), p.Type, mdCell(p.Path))
		}
		return ew.err
	}
	if g := gateLine(r); g != "" {
		ew.printf("**%s**\n\n", mdCell(g))
	}
	if len(r.NotJudged) > 0 {
		ew.printf("> **Not judged** (%d)\n", len(r.NotJudged))
		for _, n := range r.NotJudged {
			ew.printf("> - %s\n", mdCell(n.String()))
		}
		ew.printf("\n")
	}
	ew.printf("| Severity | Count |\n| --- | ---: |\n")
	for _, sev := range severityOrder {
		if sev == vuln.SeverityNegligible && sum.BySeverity[sev] == 0 {
			continue
		}
		ew.printf("| %s | %d |\n", sev, sum.BySeverity[sev])
	}
	ew.printf("| **Total** | **%d** |\n\n%d fixable · %d suppressed\n\n", sum.Total, sum.Fixable, sum.Suppressed)

	maxRows := opts.MaxRows
	if maxRows <= 0 {
		maxRows = defaultMarkdownRows
	}
	var shown []vuln.Finding
	for _, f := range sortedBySeverity(r.Vulnerabilities) {
		if f.Suppressed == nil {
			shown = append(shown, f)
		}
	}
	if len(shown) > 0 {
		ew.printf("### Vulnerabilities\n\n| ID | Package | Installed | Fixed | Severity |\n| --- | --- | --- | --- | --- |\n")
		for i, f := range shown {
			if i == maxRows {
				ew.printf("\n…and %d more.\n", len(shown)-maxRows)
				break
			}
			ew.printf("| [%s](%s) | %s | %s | %s | %s |\n", mdCell(f.ID), advisoryURL(f.ID), mdCell(f.Package.Name),
				mdCell(f.Package.Version), mdCell(fixedIn(f)), f.Severity)
		}
		ew.printf("\n")
	}
	if checks := violatedChecks(r.Checks); len(checks) > 0 {
		ew.printf("### Best-practice checks\n\n| Code | Level | Title | Alerts |\n| --- | --- | --- | --- |\n")
		for _, c := range checks {
			level := c.Level
			if c.Suppressed != nil {
				level += " (suppressed)"
			}
			ew.printf("| %s | %s | %s | %s |\n", mdCell(c.Code), level, mdCell(c.Title), mdCell(truncate(strings.Join(c.Alerts, "; "), 200)))
		}
		ew.printf("\n")
	}
	if sum.Secrets > 0 {
		ew.printf("### Secrets\n\n| Rule | File | Match |\n| --- | --- | --- |\n")
		for _, s := range sortedSecrets(r.Secrets) {
			if s.Suppressed != nil {
				continue
			}
			loc := s.Path
			if s.Line > 0 {
				loc = fmt.Sprintf("%s:%d", s.Path, s.Line)
			}
			ew.printf("| %s | %s | `%s` |\n", mdCell(s.Rule), mdCell(loc), mdCell(s.Match))
		}
		ew.printf("\n")
	}
	return ew.err
}

// sortedBySeverity orders findings worst first, then by report order.
func sortedBySeverity(fs []vuln.Finding) []vuln.Finding {
	out := sortedFindings(fs)
	stableSortBy(out, func(f vuln.Finding) int { return -vuln.SeverityRank(f.Severity) })
	return out
}
