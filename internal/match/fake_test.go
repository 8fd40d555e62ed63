package match

import (
	"context"
	"sync/atomic"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// fakeStore is an in-memory vuln.Store for semantics tests and benchmarks.
type fakeStore struct {
	affected map[[2]string][]vuln.Affected
	vulns    map[string]*vuln.Vulnerability
	enrich   map[string]vuln.Enrichment
	lookups  atomic.Int64
}

func newFakeStore() *fakeStore {
	return &fakeStore{affected: map[[2]string][]vuln.Affected{}, vulns: map[string]*vuln.Vulnerability{}, enrich: map[string]vuln.Enrichment{}}
}

func (s *fakeStore) add(a vuln.Affected) *fakeStore {
	k := [2]string{a.Ecosystem, a.Package}
	s.affected[k] = append(s.affected[k], a)
	if _, ok := s.vulns[a.VulnID]; !ok {
		s.vulns[a.VulnID] = &vuln.Vulnerability{ID: a.VulnID, Source: a.Source}
	}
	return s
}

func (s *fakeStore) vuln(v vuln.Vulnerability) *fakeStore {
	s.vulns[v.ID] = &v
	return s
}

func (s *fakeStore) Affected(_ context.Context, eco, pkg string) ([]vuln.Affected, error) {
	s.lookups.Add(1)
	return s.affected[[2]string{eco, pkg}], nil
}

func (s *fakeStore) Vulnerability(_ context.Context, id string) (*vuln.Vulnerability, error) {
	return s.vulns[id], nil
}

func (s *fakeStore) Enrichment(_ context.Context, cve string) (vuln.Enrichment, error) {
	return s.enrich[cve], nil
}

func fixedRange(introduced, fixed string) []vuln.Range {
	return []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: introduced}, {Fixed: fixed}}}}
}

func pkg(typ, eco, name, ver string) inventory.Package {
	return inventory.Package{Type: typ, Ecosystem: eco, Name: name, Version: ver, Path: "x"}
}
