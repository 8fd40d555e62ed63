package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// GateOptions say what fails a CI run.
type GateOptions struct {
	// Threshold is "", UNKNOWN, NEGLIGIBLE, LOW, MEDIUM, HIGH or CRITICAL:
	// unsuppressed findings at or above it fail the gate. "" never fails
	// on findings. UNKNOWN is the lowest severity, so it fails on every
	// finding (as in Trivy); from NEGLIGIBLE up, findings of unknown
	// severity do not count.
	Threshold string
	// IgnoreUnfixed: findings without a fixed version do not count.
	IgnoreUnfixed bool
	// OnlyFixed has the same effect (Grype's name for it).
	OnlyFixed bool
	// CheckLevel is "", INFO, WARN or FATAL: unsuppressed best-practice
	// violations at or above it fail the gate.
	CheckLevel string
	// FailOnSecrets: any unsuppressed secret fails the gate.
	FailOnSecrets bool
	// FailOnUnsupported: anything the scan could not judge (report
	// NotJudged: no data for the OS release, an end-of-life release, a
	// stale feed, ...) fails the gate.
	FailOnUnsupported bool
	// FailOnAny: any unsuppressed vulnerability or secret fails the gate
	// (Trivy's --exit-code without a threshold).
	FailOnAny bool
}

var severities = []string{vuln.SeverityUnknown, vuln.SeverityNegligible, vuln.SeverityLow,
	vuln.SeverityMedium, vuln.SeverityHigh, vuln.SeverityCritical}

var checkLevels = []string{result.LevelInfo, result.LevelWarn, result.LevelFatal}

// ParseSeverity normalises a severity name, case-insensitively; "" stays
// "" (no threshold).
func ParseSeverity(s string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "" || slices.Contains(severities, u) {
		return u, nil
	}
	return "", fmt.Errorf("invalid severity %q: want one of %s", s, strings.Join(severities, ", "))
}

// ParseCheckLevel normalises a best-practice level (INFO, WARN, FATAL),
// case-insensitively; "" stays "".
func ParseCheckLevel(s string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "" || slices.Contains(checkLevels, u) {
		return u, nil
	}
	return "", fmt.Errorf("invalid check level %q: want one of %s", s, strings.Join(checkLevels, ", "))
}

// reasonIDs is how many findings a gate reason names before "and N more".
const reasonIDs = 5

// Evaluate decides the gate for a report whose policy has been applied.
// Suppressed findings, checks and secrets never count. Invalid options
// fail the gate (fail closed) with a reason saying so; callers validate
// with ParseSeverity and ParseCheckLevel first.
func Evaluate(r *result.Report, g GateOptions) result.Gate {
	threshold, terr := ParseSeverity(g.Threshold)
	level, lerr := ParseCheckLevel(g.CheckLevel)
	gate := result.Gate{Threshold: threshold}
	if terr != nil {
		gate.Reasons = append(gate.Reasons, "gate misconfigured: "+terr.Error())
	}
	if lerr != nil {
		gate.Reasons = append(gate.Reasons, "gate misconfigured: "+lerr.Error())
	}
	if r == nil {
		gate.Failed = len(gate.Reasons) > 0
		return gate
	}
	scope := "at or above " + threshold
	if threshold == "" && g.FailOnAny {
		// Trivy's --exit-code alone: every finding shown counts, whatever
		// its severity; "at or above UNKNOWN" would read like a setting.
		threshold, scope = vuln.SeverityUnknown, "shown (--exit-code without --severity-threshold)"
	}
	if threshold != "" {
		if reason := vulnReason(r.Vulnerabilities, threshold, scope, g.IgnoreUnfixed || g.OnlyFixed); reason != "" {
			gate.Reasons = append(gate.Reasons, reason)
		}
	}
	if level != "" {
		if reason := checkReason(r.Checks, level); reason != "" {
			gate.Reasons = append(gate.Reasons, reason)
		}
	}
	if g.FailOnSecrets || g.FailOnAny {
		if reason := secretReason(r.Secrets); reason != "" {
			gate.Reasons = append(gate.Reasons, reason)
		}
	}
	if g.FailOnUnsupported && len(r.NotJudged) > 0 {
		gate.Reasons = append(gate.Reasons, "not judged (--fail-on-unsupported): "+result.NotJudgedSummary(r.NotJudged))
	}
	gate.Failed = len(gate.Reasons) > 0
	return gate
}

// fixable reports whether a fix exists for the finding.
func fixable(f *vuln.Finding) bool {
	return f.FixState == vuln.FixStateFixed || len(f.FixedVersions) > 0
}

func vulnReason(fs []vuln.Finding, threshold, scope string, onlyFixed bool) string {
	floor := vuln.SeverityRank(threshold)
	var hits []*vuln.Finding
	for i := range fs {
		f := &fs[i]
		if f.Suppressed != nil || vuln.SeverityRank(f.Severity) < floor || (onlyFixed && !fixable(f)) {
			continue
		}
		hits = append(hits, f)
	}
	if len(hits) == 0 {
		return ""
	}
	slices.SortStableFunc(hits, func(a, b *vuln.Finding) int {
		return cmp.Or(
			cmp.Compare(vuln.SeverityRank(b.Severity), vuln.SeverityRank(a.Severity)),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.Package.Name, b.Package.Name))
	})
	counts := map[int]int{}
	for _, f := range hits {
		counts[vuln.SeverityRank(f.Severity)]++
	}
	var bySev []string
	for rank := len(severities) - 1; rank >= 0; rank-- {
		if n := counts[rank]; n > 0 {
			bySev = append(bySev, fmt.Sprintf("%d %s", n, severities[rank]))
		}
	}
	var names []string
	for _, f := range hits[:min(len(hits), reasonIDs)] {
		names = append(names, fmt.Sprintf("%s in %s", f.ID, f.Package.Name))
	}
	unfixed := ""
	if onlyFixed {
		unfixed = " with a fix"
	}
	return fmt.Sprintf("%s%s %s (%s): %s%s", plural(len(hits), "vulnerability", "vulnerabilities"),
		unfixed, scope, strings.Join(bySev, ", "), strings.Join(names, ", "), more(len(hits)))
}

func checkReason(cs []result.CheckResult, level string) string {
	floor := slices.Index(checkLevels, level)
	var hits []string
	for _, c := range cs {
		if c.Suppressed != nil || !c.Violated() || slices.Index(checkLevels, c.Level) < floor {
			continue
		}
		hits = append(hits, fmt.Sprintf("%s (%s)", c.Code, c.Level))
	}
	if len(hits) == 0 {
		return ""
	}
	n := len(hits)
	return fmt.Sprintf("%s at or above %s: %s%s", plural(n, "best-practice violation", "best-practice violations"),
		level, strings.Join(hits[:min(n, reasonIDs)], ", "), more(n))
}

func secretReason(ss []result.Secret) string {
	var hits []string
	for _, s := range ss {
		if s.Suppressed != nil {
			continue
		}
		where := s.Path
		if s.Line > 0 {
			where = fmt.Sprintf("%s:%d", s.Path, s.Line)
		}
		hits = append(hits, fmt.Sprintf("%s in %s", s.Rule, where))
	}
	if len(hits) == 0 {
		return ""
	}
	n := len(hits)
	return fmt.Sprintf("%s found: %s%s", plural(n, "secret", "secrets"), strings.Join(hits[:min(n, reasonIDs)], ", "), more(n))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func more(n int) string {
	if n > reasonIDs {
		return fmt.Sprintf(", and %d more", n-reasonIDs)
	}
	return ""
}
