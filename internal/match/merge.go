package match

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// unit is one hit seen as one flaw. keys link units that describe the same
// flaw (the record id and its aliases); extra ids are shown as aliases but
// do not link (the advisory id of an expanded multi-CVE advisory).
type unit struct {
	hit   hit
	vuln  *vuln.Vulnerability
	keys  []string
	extra []string
}

func isCVE(id string) bool { return strings.HasPrefix(id, "CVE-") }

// units turns hits into flaws. An advisory that aliases no CVE but is
// related to several (an AlmaLinux ALSA fixing five CVEs) is expanded into
// one unit per CVE, so gates, exceptions, EPSS and KEV work per CVE; with a
// single related CVE it is merged into that CVE.
func (m *Matcher) units(ctx context.Context, hits []hit) ([]unit, error) {
	var out []unit
	for _, h := range hits {
		v, err := m.cache.vulnerability(ctx, m.store, h.rec.VulnID)
		if err != nil {
			return nil, err
		}
		if v != nil && !v.Withdrawn.IsZero() {
			continue
		}
		keys := []string{h.rec.VulnID}
		var related []string
		if v != nil {
			keys = append(keys, v.Aliases...)
			for _, r := range v.Related {
				if isCVE(r) {
					related = append(related, r)
				}
			}
		}
		if slices.ContainsFunc(keys, isCVE) || len(related) == 0 {
			out = append(out, unit{hit: h, vuln: v, keys: keys})
			continue
		}
		if len(related) == 1 {
			out = append(out, unit{hit: h, vuln: v, keys: append(keys, related[0])})
			continue
		}
		for _, cve := range related {
			out = append(out, unit{hit: h, vuln: v, keys: []string{cve}, extra: keys})
		}
	}
	return out, nil
}

// groupUnits unions units sharing any key (union-find over unit indexes).
func groupUnits(units []unit) [][]unit {
	parent := make([]int, len(units))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, u := range units {
		for _, k := range u.keys {
			if j, ok := owner[k]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[k] = i
			}
		}
	}
	byRoot := map[int][]unit{}
	var roots []int
	for i, u := range units {
		r := find(i)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], u)
	}
	out := make([][]unit, 0, len(roots))
	for _, r := range roots {
		out = append(out, byRoot[r])
	}
	return out
}

// cveLess orders CVE ids by year, then number.
func cveLess(a, b string) bool {
	ya, na := cveParts(a)
	yb, nb := cveParts(b)
	if ya != yb {
		return ya < yb
	}
	return na < nb
}

func cveParts(id string) (int, int) {
	parts := strings.SplitN(strings.TrimPrefix(id, "CVE-"), "-", 2)
	if len(parts) != 2 {
		return 0, 0
	}
	y, _ := strconv.Atoi(parts[0])
	n, _ := strconv.Atoi(parts[1])
	return y, n
}

// primaryID is the lowest CVE of the group, else the lowest record id.
func primaryID(group []unit) (string, []string) {
	ids := map[string]bool{}
	var recordIDs []string
	for _, u := range group {
		for _, k := range u.keys {
			ids[k] = true
		}
		for _, k := range u.extra {
			ids[k] = true
		}
		ids[u.hit.rec.VulnID] = true
		recordIDs = append(recordIDs, u.hit.rec.VulnID)
	}
	primary := ""
	for id := range ids {
		if isCVE(id) && (primary == "" || cveLess(id, primary)) {
			primary = id
		}
	}
	if primary == "" {
		primary = slices.Min(recordIDs)
	}
	delete(ids, primary)
	aliases := make([]string, 0, len(ids))
	for id := range ids {
		aliases = append(aliases, id)
	}
	slices.Sort(aliases)
	return primary, aliases
}

// fixStatePriority orders unfixed states when feeds disagree: the most
// actionable first.
var fixStatePriority = []vuln.FixState{vuln.FixStateNotFixed, vuln.FixStateWontFix, vuln.FixStateEndOfLife, vuln.FixStateUnknown}

func (m *Matcher) findings(ctx context.Context, p *inventory.Package, hits []hit, w *warnings) ([]vuln.Finding, error) {
	units, err := m.units(ctx, hits)
	if err != nil {
		return nil, err
	}
	var out []vuln.Finding
	for _, group := range groupUnits(units) {
		f, err := m.finding(ctx, p, group, w)
		if err != nil {
			return nil, err
		}
		if m.opts.IgnoreUnfixed && f.FixState != vuln.FixStateFixed {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

func (m *Matcher) finding(ctx context.Context, p *inventory.Package, group []unit, w *warnings) (vuln.Finding, error) {
	id, aliases := primaryID(group)
	f := vuln.Finding{
		ID:      id,
		Aliases: aliases,
		Package: vuln.PackageRef{Name: p.Name, Version: p.Version, Type: p.Type, Ecosystem: p.Ecosystem, PURL: p.PURL, Path: p.Path, Source: p.Source},
		Layer:   p.Layer,
	}
	// Descriptions: the primary's own record first, then the others.
	vulns := make([]*vuln.Vulnerability, 0, len(group)+1)
	if pv, err := m.cache.vulnerability(ctx, m.store, id); err != nil {
		return f, err
	} else if pv != nil && pv.Withdrawn.IsZero() {
		vulns = append(vulns, pv)
	}
	states := map[vuln.FixState]bool{}
	var fixes []string
	cmp := group[0].hit.cmp
	for _, u := range group {
		if u.vuln != nil && !slices.Contains(vulns, u.vuln) {
			vulns = append(vulns, u.vuln)
		}
		states[u.hit.state] = true
		if u.hit.fix != "" {
			fixes = append(fixes, u.hit.fix)
		}
		fixes = append(fixes, u.hit.fixes...)
		f.DataSources = append(f.DataSources, u.hit.rec.Source)
	}
	slices.Sort(f.DataSources)
	f.DataSources = slices.Compact(f.DataSources)
	f.FixedVersions = sortVersions(cmp, fixes)
	switch {
	case len(f.FixedVersions) > 0 || states[vuln.FixStateFixed]:
		f.FixState = vuln.FixStateFixed
	default:
		f.FixState = vuln.FixStateUnknown
		for _, s := range fixStatePriority {
			if states[s] {
				f.FixState = s
				break
			}
		}
	}
	for _, v := range vulns {
		if f.Title == "" {
			f.Title = v.Summary
		}
		if f.Description == "" {
			f.Description = v.Details
		}
		for _, r := range v.References {
			if !slices.Contains(f.References, r) {
				f.References = append(f.References, r)
			}
		}
		if v.Published.Year() > 1 && (f.Published.IsZero() || v.Published.Before(f.Published)) {
			f.Published = v.Published
		}
		if v.Modified.Year() > 1 && v.Modified.After(f.Modified) {
			f.Modified = v.Modified
		}
	}
	if err := m.advisories(ctx, &f, group); err != nil {
		return f, err
	}
	var enr vuln.Enrichment
	if isCVE(id) {
		var err error
		if enr, err = m.cache.enrichment(ctx, m.store, id); err != nil {
			return f, err
		}
		f.EPSS, f.KEV = enr.EPSS, enr.KEV
	}
	chooseSeverity(&f, p, group, vulns, enr, w)
	if len(f.FixedVersions) > 0 {
		f.Remediation = remediation(p, group, f.FixedVersions[0])
	}
	return f, nil
}

// sortVersions dedupes and sorts versions lowest first with c; versions
// that do not parse keep their order at the end.
func sortVersions(c version.Comparator, vs []string) []string {
	if len(vs) == 0 {
		return nil
	}
	slices.Sort(vs)
	vs = slices.Compact(vs)
	slices.SortStableFunc(vs, func(a, b string) int {
		r, err := c.Compare(a, b)
		if err != nil {
			return 0
		}
		return r
	})
	// Equal under the rules ("1:2.0-1" and "2.0-1" with epoch 0): keep one.
	out := vs[:1]
	for _, v := range vs[1:] {
		if r, err := c.Compare(out[len(out)-1], v); err == nil && r == 0 {
			continue
		}
		out = append(out, v)
	}
	return out
}

// advisories lists the vendor advisories that published the matched fixes
// (the DSA behind a buster record, not every DSA/DLA naming the CVE) and,
// when no record gave a title, takes the first one's ("DSA-5103-1: openssl
// - security update").
func (m *Matcher) advisories(ctx context.Context, f *vuln.Finding, group []unit) error {
	for _, u := range group {
		if a := u.hit.rec.Advisory; a != "" && a != f.ID && !slices.Contains(f.Advisories, a) {
			f.Advisories = append(f.Advisories, a)
		}
	}
	slices.Sort(f.Advisories)
	if f.Title != "" || len(f.Advisories) == 0 {
		return nil
	}
	adv, err := m.cache.vulnerability(ctx, m.store, f.Advisories[0])
	if err != nil {
		return err
	}
	if adv != nil && adv.Summary != "" {
		f.Title = adv.ID + ": " + adv.Summary
	}
	return nil
}
