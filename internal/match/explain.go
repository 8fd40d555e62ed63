package match

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Verdict says why one advisory record does or does not affect a package:
// the answer to "why is this (not) a finding?" that `vigil explain` prints.
// It is computed by the same lookups and range evaluation as Match.
type Verdict struct {
	VulnID    string        `json:"vuln_id"`
	Source    string        `json:"source"`
	Ecosystem string        `json:"ecosystem"`
	Key       string        `json:"key"`      // the package name looked up
	KeyKind   string        `json:"key_kind"` // "source package", "binary package", "package", "Go toolchain"
	Version   string        `json:"version"`  // the installed version compared
	Affected  bool          `json:"affected"`
	FixState  vuln.FixState `json:"fix_state,omitempty"`
	Fix       string        `json:"fix,omitempty"`
	Advisory  string        `json:"advisory,omitempty"`
	// Rule is one sentence: which range or which rule decided.
	Rule string `json:"rule"`
}

// Explanation is every verdict for one package, plus what was looked up
// and found nothing, and why a package could not be matched at all.
type Explanation struct {
	Package  inventory.Package `json:"package"`
	Lookups  []string          `json:"lookups"`
	Verdicts []Verdict         `json:"verdicts"`
	Warnings []string          `json:"warnings,omitempty"`
}

// Explain evaluates every record the package is looked up under and says
// why each one matches or not.
func (m *Matcher) Explain(ctx context.Context, p inventory.Package) (*Explanation, error) {
	ex := &Explanation{Package: p}
	w := &warnings{}
	defer func() { ex.Warnings = w.list }()
	if p.Ecosystem == "" || p.Version == "" {
		w.add("a package needs an ecosystem and a version to be matched")
		return ex, nil
	}
	cmp, err := version.For(p.Ecosystem)
	if err != nil {
		w.add("no version rules for ecosystem %q: packages there are not matched", p.Ecosystem)
		return ex, nil
	}
	for i, l := range lookups(&p) {
		kind := keyKind(&p, i, l.name)
		ex.Lookups = append(ex.Lookups, fmt.Sprintf("%s %s %s at %s", p.Ecosystem, kind, l.name, l.version))
		recs, err := m.cache.records(ctx, m.store, cmp, p.Ecosystem, l.name)
		if err != nil {
			return nil, fmt.Errorf("looking up %s %s: %w", p.Ecosystem, l.name, err)
		}
		for _, rec := range recs {
			v := verdict(rec, l.version, p.IsOS(), w)
			v.Key, v.KeyKind = l.name, kind
			ex.Verdicts = append(ex.Verdicts, v)
		}
	}
	return ex, nil
}

func keyKind(p *inventory.Package, i int, name string) string {
	switch {
	case !p.IsOS() && name == "toolchain":
		return "Go toolchain"
	case !p.IsOS():
		return "package"
	case i == 0 && p.Source != nil && p.Source.Name != "":
		return "source package"
	}
	return "binary package"
}

// verdict mirrors evaluate, keeping the reason.
func verdict(rec *record, v string, os bool, w *warnings) Verdict {
	out := Verdict{VulnID: rec.VulnID, Source: rec.Source, Ecosystem: rec.Ecosystem, Version: v, FixState: rec.FixState, Advisory: rec.Advisory}
	who := "the advisory"
	if os {
		who = "the distribution (" + rec.Ecosystem + ")"
	}
	if rec.FixState == vuln.FixStateNotAffected {
		out.Rule = who + " says this release is not affected" + note(rec.Note)
		return out
	}
	for _, pr := range rec.ranges {
		rh, err := pr.evaluate(v)
		if err != nil {
			w.add("%s for %s %s: %v; range skipped", rec.VulnID, rec.Ecosystem, rec.Package, err)
			continue
		}
		if rh.affected {
			out.Affected, out.Fix = true, rh.fix
			out.Rule = fmt.Sprintf("%s is in the affected range %s", v, describeRange(pr))
			break
		}
	}
	if !out.Affected && len(rec.Versions) > 0 && rec.inVersions(v) {
		out.Affected = true
		out.Rule = fmt.Sprintf("%s is one of the %d affected versions listed", v, len(rec.Versions))
	}
	if !out.Affected && len(rec.ranges) == 0 && len(rec.Versions) == 0 && rec.FixState != vuln.FixStateFixed {
		out.Affected = true
		out.Rule = fmt.Sprintf("%s lists every version as affected (%s, no fixed version)%s", who, cmpOrUnknown(rec.FixState), note(rec.Note))
	}
	if out.Affected {
		if out.Fix == "" {
			if fixes := rec.fixesAbove(v); len(fixes) > 0 {
				out.Fix = fixes[0]
			}
		}
		return out
	}
	fixes := fixedVersions(rec)
	switch {
	case os && len(fixes) > 0:
		// The distribution's fixed version is about its own builds: a fix
		// backported into an older upstream version counts.
		out.Rule = fmt.Sprintf("%s is at or above %s fixed version %s; distribution backports count, upstream version ranges are not used", v, who, strings.Join(fixes, ", "))
	case len(rec.ranges) > 0:
		out.Rule = fmt.Sprintf("%s is outside every affected range (%s)", v, describeRanges(rec.ranges))
	default:
		out.Rule = fmt.Sprintf("%s is not among the %d affected versions listed", v, len(rec.Versions))
	}
	return out
}

func note(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}

func cmpOrUnknown(s vuln.FixState) string {
	if s == "" {
		return "fix state unknown"
	}
	return string(s)
}

func fixedVersions(rec *record) []string {
	var out []string
	for _, pr := range rec.ranges {
		for _, e := range pr.events {
			if e.Fixed != "" {
				out = append(out, e.Fixed)
			}
		}
	}
	return out
}

// describeRange renders a prepared (sorted) range.
func describeRange(pr preparedRange) string { return describeEvents(pr.events, pr.limits) }

// DescribeRange renders a range as intervals, "[0, 1.2.3) ∪ [2.0, 2.1.4]",
// with its events in the order given.
func DescribeRange(r vuln.Range) string {
	var events []vuln.Event
	var limits []string
	for _, e := range r.Events {
		switch {
		case e.Limit == "*":
		case e.Limit != "":
			limits = append(limits, e.Limit)
		default:
			events = append(events, e)
		}
	}
	return describeEvents(events, limits)
}

func describeEvents(events []vuln.Event, limits []string) string {
	var parts []string
	open := ""
	for _, e := range events {
		switch {
		case e.Introduced != "":
			open = e.Introduced
		case e.Fixed != "":
			parts = append(parts, fmt.Sprintf("[%s, %s)", open, e.Fixed))
			open = ""
		case e.LastAffected != "":
			parts = append(parts, fmt.Sprintf("[%s, %s]", open, e.LastAffected))
			open = ""
		}
	}
	if open != "" {
		parts = append(parts, fmt.Sprintf("[%s, no fix)", open))
	}
	if len(limits) > 0 {
		parts = append(parts, "below "+strings.Join(limits, ", "))
	}
	if len(parts) == 0 {
		return "(no events)"
	}
	return strings.Join(parts, " ∪ ")
}

func describeRanges(rs []preparedRange) string {
	var parts []string
	for _, pr := range rs {
		parts = append(parts, describeRange(pr))
	}
	return strings.Join(parts, "; ")
}
