// Package policy owns what happens between findings and the exit code:
// exceptions from Vigil's .vigil.yaml, Azure/container-scan allow-lists,
// OpenVEX and CycloneDX VEX statements, and the CI gate (severity threshold,
// check level, secrets). It marks findings suppressed or annotated and never
// removes them, so every exception stays auditable in the report. A Policy
// is immutable once loaded and safe for concurrent use.
package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Suppression kinds recorded in vuln.Suppression.Kind.
const (
	KindPolicy    = "policy"
	KindAllowlist = "allowlist"
	KindVEX       = "vex"
	// KindIgnoreFile is a rule from another scanner's ignore file:
	// .trivyignore, .trivyignore.yaml or the ignore: rules of .grype.yaml.
	KindIgnoreFile = "ignorefile"
)

// Policy is a set of exception rules and VEX statements. The zero value
// is an empty policy; nil is also accepted by Apply and Merge.
type Policy struct {
	// Sources are the files the policy was loaded from, in order.
	Sources []string

	vulns   []vulnRule
	checks  []checkRule
	secrets []secretRule
	vex     []vexStatement
}

// ruleBase is what every exception rule has.
type ruleBase struct {
	kind   string // KindPolicy or KindAllowlist
	source string
	line   int
	reason string
	// expires is the date as written (shown in reports); until is the
	// instant from which the rule no longer applies.
	expires time.Time
	until   time.Time
	image   *glob
}

func (b *ruleBase) ref() string { return fmt.Sprintf("%s:%d", b.source, b.line) }

func (b *ruleBase) expired(now time.Time) bool {
	return !b.until.IsZero() && !now.Before(b.until)
}

// applies reports whether the rule is in force for this image now.
func (b *ruleBase) applies(img imageView, now time.Time) bool {
	return !b.expired(now) && (b.image == nil || img.matchName(b.image))
}

func (b *ruleBase) suppression() *vuln.Suppression {
	return &vuln.Suppression{Kind: b.kind, Rule: b.ref(), Reason: b.reason, Expires: b.expires}
}

// vulnRule ignores vulnerabilities by id and/or package.
type vulnRule struct {
	ruleBase
	id   string // upper case; "" matches any id
	pkg  *glob  // package name (or source package name)
	purl *glob  // package URL without qualifiers
	path *glob  // file the package was found in
	// Grype's rule fields: exact version, purl type, fix state ("" = any).
	version  string
	pkgType  string
	fixState vuln.FixState
}

func (v *vulnRule) what() string {
	var parts []string
	if v.id != "" {
		parts = append(parts, v.id)
	}
	if v.pkg != nil {
		parts = append(parts, "package "+v.pkg.pattern)
	}
	if v.purl != nil {
		parts = append(parts, "package "+v.purl.pattern)
	}
	if v.path != nil {
		parts = append(parts, "path "+v.path.pattern)
	}
	if v.version != "" {
		parts = append(parts, "version "+v.version)
	}
	if v.pkgType != "" {
		parts = append(parts, "type "+v.pkgType)
	}
	if v.fixState != "" {
		parts = append(parts, "fix state "+string(v.fixState))
	}
	return strings.Join(parts, " in ")
}

func (v *vulnRule) match(f *vuln.Finding) bool {
	if v.id != "" && !strings.EqualFold(f.ID, v.id) &&
		!slices.ContainsFunc(f.Aliases, func(a string) bool { return strings.EqualFold(a, v.id) }) {
		return false
	}
	if v.pkg != nil && !v.pkg.match(f.Package.Name) &&
		(f.Package.Source == nil || !v.pkg.match(f.Package.Source.Name)) {
		return false
	}
	if v.purl != nil && !matchPURLGlob(v.purl, f.Package.PURL) {
		return false
	}
	if v.path != nil && !v.path.match(strings.TrimPrefix(f.Package.Path, "/")) {
		return false
	}
	if v.version != "" && v.version != f.Package.Version {
		return false
	}
	if v.pkgType != "" && !strings.EqualFold(v.pkgType, f.Package.Type) {
		return false
	}
	return v.fixState == "" || v.fixState == f.FixState
}

// checkRule accepts a best-practice rule violation.
type checkRule struct {
	ruleBase
	code string // upper case
}

// secretRule accepts detected secrets by rule and/or path.
type secretRule struct {
	ruleBase
	rule string // detection rule id; "" matches any
	path *glob
}

func (s *secretRule) what() string {
	switch {
	case s.rule != "" && s.path != nil:
		return fmt.Sprintf("secret %s in %s", s.rule, s.path.pattern)
	case s.rule != "":
		return "secret " + s.rule
	}
	return "secrets in " + s.path.pattern
}

func (s *secretRule) match(sec *result.Secret) bool {
	if s.rule != "" && !strings.EqualFold(s.rule, sec.Rule) {
		return false
	}
	return s.path == nil || s.path.match(strings.TrimPrefix(sec.Path, "/"))
}

// Merge combines policies in order: exception rules are tried in the order
// of the arguments (the first match is recorded), VEX statements from all
// of them are weighed together by timestamp. Nil arguments are skipped; the
// result is never nil.
func Merge(ps ...*Policy) *Policy {
	out := &Policy{}
	for _, p := range ps {
		if p == nil {
			continue
		}
		out.Sources = append(out.Sources, p.Sources...)
		out.vulns = append(out.vulns, p.vulns...)
		out.checks = append(out.checks, p.checks...)
		out.secrets = append(out.secrets, p.secrets...)
		out.vex = append(out.vex, p.vex...)
	}
	return out
}

// Empty reports whether the policy has no rules and no VEX statements.
func (p *Policy) Empty() bool {
	return p == nil || len(p.vulns)+len(p.checks)+len(p.secrets)+len(p.vex) == 0
}

// Apply marks the report's findings, check violations and secrets that the
// policy accepts: Suppressed is set with the rule that matched, and VEX
// statements that do not suppress (under_investigation, affected, in_triage,
// exploitable) add an annotation. Nothing is removed, and items already
// suppressed keep their suppression. Exception rules win over VEX: a finding
// both ignored by a rule and stated not_affected records the rule.
//
// The warnings are one per expired rule (an expired rule no longer applies,
// and the file should be cleaned up). The caller then calls r.Summarize().
func (p *Policy) Apply(r *result.Report, now time.Time) []string {
	if p == nil || r == nil {
		return nil
	}
	warnings := p.expiryWarnings(now)
	img := newImageView(r.Artifact)
	vex := newVEXIndex(p.vex, r)
	rules := newRuleIndex(p.vulns)
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		st := vex.latest(f, img)
		if st != nil && !st.suppresses() {
			addAnnotation(f, st.annotation())
		}
		if f.Suppressed != nil {
			continue
		}
		for _, j := range rules.candidates(f) {
			if rule := &p.vulns[j]; rule.applies(img, now) && rule.match(f) {
				f.Suppressed = rule.suppression()
				break
			}
		}
		if f.Suppressed == nil && st != nil && st.suppresses() {
			f.Suppressed = st.suppression()
		}
	}
	for i := range r.Checks {
		c := &r.Checks[i]
		if c.Suppressed != nil || !c.Violated() {
			continue
		}
		for j := range p.checks {
			if rule := &p.checks[j]; rule.applies(img, now) && strings.EqualFold(rule.code, c.Code) {
				c.Suppressed = rule.suppression()
				break
			}
		}
	}
	for i := range r.Secrets {
		s := &r.Secrets[i]
		if s.Suppressed != nil {
			continue
		}
		for j := range p.secrets {
			if rule := &p.secrets[j]; rule.applies(img, now) && rule.match(s) {
				s.Suppressed = rule.suppression()
				break
			}
		}
	}
	return warnings
}

func (p *Policy) expiryWarnings(now time.Time) []string {
	var out []string
	warn := func(b *ruleBase, what string) {
		if b.expired(now) {
			out = append(out, fmt.Sprintf("%s: exception for %s expired on %s and no longer applies",
				b.ref(), what, formatExpiry(b.expires)))
		}
	}
	for i := range p.vulns {
		warn(&p.vulns[i].ruleBase, p.vulns[i].what())
	}
	for i := range p.checks {
		warn(&p.checks[i].ruleBase, p.checks[i].code)
	}
	for i := range p.secrets {
		warn(&p.secrets[i].ruleBase, p.secrets[i].what())
	}
	return out
}

func addAnnotation(f *vuln.Finding, note string) {
	if note != "" && !slices.Contains(f.Annotations, note) {
		f.Annotations = append(f.Annotations, note)
	}
}

// formatExpiry shows a date-only expiry as a date.
func formatExpiry(t time.Time) string {
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// ruleIndex finds the vulnerability rules that may match a finding without
// trying all of them: rules with an id are looked up by id, rules without
// one are always candidates. Candidates keep file order.
type ruleIndex struct {
	byID  map[string][]int
	anyID []int
}

func newRuleIndex(rules []vulnRule) ruleIndex {
	x := ruleIndex{byID: map[string][]int{}}
	for i := range rules {
		if id := rules[i].id; id != "" {
			x.byID[id] = append(x.byID[id], i)
		} else {
			x.anyID = append(x.anyID, i)
		}
	}
	return x
}

func (x ruleIndex) candidates(f *vuln.Finding) []int {
	out := slices.Clone(x.anyID)
	out = append(out, x.byID[strings.ToUpper(f.ID)]...)
	for _, a := range f.Aliases {
		out = append(out, x.byID[strings.ToUpper(a)]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
