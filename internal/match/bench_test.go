package match

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// inventory500 builds 500 packages over six ecosystems, each affected by
// three records (one fixed above, one fixed below, one with two ranges).
func inventory500() (*fakeStore, []inventory.Package) {
	s := newFakeStore()
	kinds := []struct{ typ, eco, installed, low, high string }{
		{inventory.TypeApk, "Alpine:v3.19", "1.2.3-r1", "1.2.3-r0", "1.2.4-r0"},
		{inventory.TypeDeb, "Debian:12", "1.2.3-1", "1.2.2-1", "1.2.3-2"},
		{inventory.TypeRPM, "AlmaLinux:9", "1:1.2.3-1.el9", "1:1.2.3-0.el9", "1:1.2.3-4.el9"},
		{inventory.TypePyPI, "PyPI", "1.2.3", "1.2.0", "1.3.0rc1"},
		{inventory.TypeNPM, "npm", "1.2.3", "1.2.0", "1.2.4"},
		{inventory.TypeGolang, "Go", "v1.2.3", "1.2.0", "1.2.4"},
	}
	var pkgs []inventory.Package
	for i := range 500 {
		k := kinds[i%len(kinds)]
		name := fmt.Sprintf("pkg%d", i)
		for j, fixed := range []string{k.high, k.low} {
			id := fmt.Sprintf("CVE-2024-%d", i*10+j)
			s.add(vuln.Affected{VulnID: id, Source: "bench", Ecosystem: k.eco, Package: name, Ranges: fixedRange("0", fixed), FixState: vuln.FixStateFixed})
			s.enrich[id] = vuln.Enrichment{CVSS: []vuln.CVSS{{Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}}
		}
		s.add(vuln.Affected{VulnID: fmt.Sprintf("GHSA-%d", i), Source: "bench", Ecosystem: k.eco, Package: name, FixState: vuln.FixStateFixed,
			Ranges: []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Fixed: k.high}, {Introduced: k.low}}}}})
		p := pkg(k.typ, k.eco, name, k.installed)
		pkgs = append(pkgs, p)
	}
	return s, pkgs
}

func BenchmarkMatch500(b *testing.B) {
	s, pkgs := inventory500()
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := New(s, Options{}).Match(context.Background(), pkgs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("warm", func(b *testing.B) {
		m := New(s, Options{})
		for b.Loop() {
			if _, _, err := m.Match(context.Background(), pkgs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLookup measures warm (cached) record lookups, the per-package
// cost before range evaluation.
func BenchmarkLookup(b *testing.B) {
	s, pkgs := inventory500()
	m := New(s, Options{})
	ctx := context.Background()
	cmps := make([]version.Comparator, len(pkgs))
	for i, p := range pkgs {
		cmps[i], _ = version.For(p.Ecosystem)
		if _, err := m.cache.records(ctx, s, cmps[i], p.Ecosystem, p.Name); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		p := &pkgs[i%len(pkgs)]
		if _, err := m.cache.records(ctx, s, cmps[i%len(pkgs)], p.Ecosystem, p.Name); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

func TestMatch500Findings(t *testing.T) {
	s, pkgs := inventory500()
	fs, warns := match(t, s, Options{}, pkgs...)
	// Each package: the CVE fixed above it and the GHSA with unsorted
	// events [low, high) are affected; the CVE fixed below is not.
	if len(warns) != 0 || len(fs) != 1000 {
		t.Fatalf("%d findings, warnings %v", len(fs), warns)
	}
}
