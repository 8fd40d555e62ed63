package scan

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/osrelease"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// notJudged lists what a match over store cannot judge: OS packages of a
// distribution or release the DB has no data for, language ecosystems
// without advisories, ecosystems without version rules, and an OS release
// past its end of life. A store that cannot say what it covers
// (no vuln.Coverage) only gets the checks that need no store.
func notJudged(ctx context.Context, inv *inventory.Inventory, store vuln.Store, now time.Time) ([]result.NotJudged, error) {
	var covered map[string]bool
	if c, ok := store.(vuln.Coverage); ok {
		var err error
		if covered, err = c.Ecosystems(ctx); err != nil {
			return nil, err
		}
	}
	osName := osLabel(inv.Artifact.OS)
	type group struct {
		os        bool
		ecosystem string
		pkgType   string
	}
	counts := map[group]int{}
	for _, p := range inv.Packages {
		g := group{os: p.IsOS(), ecosystem: p.Ecosystem}
		if p.Ecosystem == "" {
			g.pkgType = p.Type // nothing else names the group
		}
		counts[g]++
	}
	var out []result.NotJudged
	for g, n := range counts {
		nj := result.NotJudged{Scope: result.ScopeEcosystem, Target: g.ecosystem, Ecosystem: g.ecosystem, Packages: n}
		if g.os {
			nj.Scope, nj.Target = result.ScopeOS, osName
		}
		_, rulesErr := version.For(g.ecosystem)
		switch {
		case g.ecosystem == "" && g.os && inv.Artifact.OS.Known():
			nj.Reason = result.NotJudgedUnsupported
			nj.Message = fmt.Sprintf("Vigil has no vulnerability source for %s: its %s were not checked", osName, plural(n, g.pkgType+" package"))
		case g.ecosystem == "" && g.os:
			nj.Reason, nj.Target = result.NotJudgedUnsupported, "unknown OS"
			nj.Message = fmt.Sprintf("the distribution and release are unknown (no os-release): %s were not checked", plural(n, g.pkgType+" package"))
		case g.ecosystem == "":
			nj.Reason, nj.Target = result.NotJudgedUnsupported, g.pkgType
			nj.Message = fmt.Sprintf("no vulnerability ecosystem for %s packages: %s were not checked", g.pkgType, plural(n, "package"))
		case rulesErr != nil:
			nj.Reason = result.NotJudgedNoVersionRules
			nj.Message = fmt.Sprintf("no version rules for %s: %s were not checked", g.ecosystem, plural(n, "package"))
		case covered != nil && !covered[g.ecosystem]:
			nj.Reason = result.NotJudgedNoData
			nj.Message = fmt.Sprintf("the vulnerability DB has no advisories for %s (%s): %s were not checked", nj.Target, g.ecosystem, plural(n, "package"))
		default:
			continue
		}
		out = append(out, nj)
	}
	if eol, ok := osrelease.LookupEndOfLife(inv.Artifact.OS); ok && !now.Before(eol.Date) {
		n := 0
		for _, p := range inv.Packages {
			if p.IsOS() {
				n++
			}
		}
		since := eol.Date.Format(time.DateOnly)
		out = append(out, result.NotJudged{
			Scope: result.ScopeOS, Target: osName, Ecosystem: osrelease.Ecosystem(inv.Artifact.OS),
			Reason: result.NotJudgedEndOfLife, Packages: n, Since: since, Source: eol.Source,
			Message: fmt.Sprintf("%s reached end of life on %s: its vendor no longer publishes fixes or advisories, so vulnerabilities found since are missing", osName, since),
		})
	}
	slices.SortFunc(out, func(a, b result.NotJudged) int {
		return cmp.Or(cmp.Compare(a.Scope, b.Scope), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Reason, b.Reason))
	})
	return out, nil
}

// osLabel names an OS release for people: "alpine 3.20".
func osLabel(o inventory.OS) string {
	if !o.Known() {
		return "unknown OS"
	}
	return strings.TrimSpace(o.Family + " " + o.Version)
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}
