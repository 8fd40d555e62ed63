// Package match turns an inventory into findings: it looks every package up
// in a vuln.Store, evaluates OSV ranges and distro fix states with the
// ecosystem's version rules, merges aliases into one finding per flaw,
// chooses a severity and writes the remediation.
package match

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Options tune which findings are reported.
type Options struct {
	// IgnoreUnfixed drops findings whose FixState is not "fixed"
	// (not-fixed, wont-fix, end-of-life, unknown). The CLI's --only-fixed
	// (Grype's name) sets it too.
	IgnoreUnfixed bool
}

// Matcher matches packages against one store. It caches store lookups, so
// keep one per DB generation; it is safe for concurrent use.
type Matcher struct {
	store vuln.Store
	opts  Options
	cache *cache
}

// New returns a Matcher over store.
func New(store vuln.Store, opts Options) *Matcher {
	return &Matcher{store: store, opts: opts, cache: newCache()}
}

// Store is the store the Matcher reads, for callers that ask it more
// (vuln.Coverage) than the matching needs.
func (m *Matcher) Store() vuln.Store { return m.store }

// warnings collects messages once each, in first-seen order.
type warnings struct {
	seen map[string]bool
	list []string
}

func (w *warnings) add(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if !w.seen[msg] {
		w.seen[msg] = true
		w.list = append(w.list, msg)
	}
}

// Match returns one Finding per (package, vulnerability), sorted by
// severity (highest first), then package, then id. warnings lists what
// could not be decided (unknown distribution, unparsable versions): those
// are reported, never guessed. err is set only when the store fails or ctx
// is done.
func (m *Matcher) Match(ctx context.Context, pkgs []inventory.Package) (findings []vuln.Finding, warns []string, err error) {
	var w warnings
	for i := range pkgs {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		fs, err := m.matchPackage(ctx, &pkgs[i], &w)
		if err != nil {
			return nil, nil, err
		}
		findings = append(findings, fs...)
	}
	return sortFindings(findings), w.list, nil
}

// sortFindings orders findings through an index: Finding is large, and
// moving the structs themselves dominated the sort.
func sortFindings(fs []vuln.Finding) []vuln.Finding {
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return compareFindings(&fs[a], &fs[b]) })
	out := make([]vuln.Finding, len(fs))
	for i, j := range idx {
		out[i] = fs[j]
	}
	return out
}

func compareFindings(a, b *vuln.Finding) int {
	return cmp.Or(
		cmp.Compare(vuln.SeverityRank(b.Severity), vuln.SeverityRank(a.Severity)),
		cmp.Compare(a.Package.Name, b.Package.Name),
		cmp.Compare(a.Package.Version, b.Package.Version),
		cmp.Compare(a.Package.Path, b.Package.Path),
		cmp.Compare(a.ID, b.ID),
	)
}

// lookup is one store key to query for a package and the installed
// version records found under it are compared with.
type lookup struct {
	name    string
	version string
}

// lookups returns the keys a package is looked up under. OS packages use
// the source package (Debian tracker and Alpine secdb key on it) and the
// binary name (AlmaLinux OSV lists binary rpms). Debian fixed versions are
// source versions, so dpkg compares the source version on the source key;
// apk and rpm always compare the binary version: an apk subpackage shares
// its origin's version, and AlmaLinux fixed versions are binary EVRs.
func lookups(p *inventory.Package) []lookup {
	eco := p.Ecosystem
	if !p.IsOS() {
		name := ecosystem.NormalizeName(eco, p.Name)
		out := []lookup{{name, p.Version}}
		if ecosystem.Base(eco) == ecosystem.Go && name == "stdlib" && isGoToolchainBinary(p.Path) {
			out = append(out, lookup{"toolchain", p.Version})
		}
		return out
	}
	bin := ecosystem.NormalizeName(eco, p.Name)
	src, srcVersion := bin, p.Version
	if p.Source != nil {
		if p.Source.Name != "" {
			src = ecosystem.NormalizeName(eco, p.Source.Name)
		}
		if p.Type == inventory.TypeDeb && p.Source.Version != "" {
			srcVersion = p.Source.Version
		}
	}
	out := []lookup{{src, srcVersion}}
	if bin != src {
		out = append(out, lookup{bin, p.Version})
	}
	return out
}

// isGoToolchainBinary reports whether the Go binary is the go command
// itself, the only case where the "toolchain" module's advisories (about
// cmd/go) apply; a program built with Go is matched against "stdlib" only.
func isGoToolchainBinary(path string) bool {
	return strings.HasSuffix(path, "/bin/go") || path == "bin/go" || path == "go"
}

// hit is one record that affects the package.
type hit struct {
	rec     *record
	version string // the installed version compared
	state   vuln.FixState
	fix     string   // fix of the interval containing the version
	fixes   []string // all fixed versions above the installed one
	cmp     version.Comparator
}

func (m *Matcher) matchPackage(ctx context.Context, p *inventory.Package, w *warnings) ([]vuln.Finding, error) {
	if p.Ecosystem == "" {
		if p.IsOS() {
			w.add("%s packages skipped: the distribution release is unknown", p.Type)
		} else {
			w.add("%s packages skipped: no ecosystem", p.Type)
		}
		return nil, nil
	}
	if p.Version == "" {
		w.add("%s %s (%s): no version; not matched", p.Name, p.Path, p.Ecosystem)
		return nil, nil
	}
	cmp, err := version.For(p.Ecosystem)
	if err != nil {
		w.add("%s packages skipped: no version rules for ecosystem %q", p.Type, p.Ecosystem)
		return nil, nil
	}
	var hits []hit
	seen := map[string]bool{}
	for _, l := range lookups(p) {
		recs, err := m.cache.records(ctx, m.store, cmp, p.Ecosystem, l.name)
		if err != nil {
			return nil, fmt.Errorf("looking up %s %s: %w", p.Ecosystem, l.name, err)
		}
		if len(recs) == 0 {
			continue
		}
		if _, err := cmp.Compare(l.version, l.version); err != nil {
			w.add("%s %s (%s): installed version not comparable, not matched: %v", p.Name, l.version, p.Ecosystem, err)
			continue
		}
		for _, rec := range recs {
			key := rec.VulnID + "\x00" + rec.Source + "\x00" + l.name
			if seen[key] {
				continue
			}
			seen[key] = true
			h, ok := evaluate(rec, l.version, w)
			if ok {
				hits = append(hits, h)
			}
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	return m.findings(ctx, p, hits, w)
}

// evaluate decides whether rec affects installed version v.
func evaluate(rec *record, v string, w *warnings) (hit, bool) {
	if rec.FixState == vuln.FixStateNotAffected {
		return hit{}, false
	}
	h := hit{rec: rec, version: v, cmp: rec.cmp}
	affected := false
	for _, pr := range rec.ranges {
		rh, err := pr.evaluate(v)
		if err != nil {
			w.add("%s for %s %s: %v; range skipped", rec.VulnID, rec.Ecosystem, rec.Package, err)
			continue
		}
		if rh.affected {
			affected = true
			if rh.fix != "" && (h.fix == "" || less(rec.cmp, rh.fix, h.fix)) {
				h.fix = rh.fix
			}
		}
	}
	if !affected && len(rec.Versions) > 0 {
		affected = rec.inVersions(v)
	}
	// Distro records that are unfixed may carry no ranges: every version is
	// affected.
	if !affected && len(rec.ranges) == 0 && len(rec.Versions) == 0 && rec.FixState != vuln.FixStateFixed {
		affected = true
	}
	if !affected {
		return hit{}, false
	}
	h.fixes = rec.fixesAbove(v)
	switch {
	case h.fix != "" || (rec.FixState == vuln.FixStateFixed && len(h.fixes) > 0):
		h.state = vuln.FixStateFixed
	case rec.FixState == vuln.FixStateFixed || rec.FixState == "":
		// Affected in an interval with no fix (open or last_affected).
		h.state = vuln.FixStateNotFixed
	default:
		h.state = rec.FixState
	}
	return h, true
}

func less(c version.Comparator, a, b string) bool {
	r, err := c.Compare(a, b)
	return err == nil && r < 0
}
