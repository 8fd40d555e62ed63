// Package vulntest holds a vuln.Sink that records what feed parsers emit,
// for the parsers' tests. It is imported by tests only.
package vulntest

import (
	"errors"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// Sink keeps everything a parser emits.
type Sink struct {
	Vulns       []vuln.Vulnerability
	Affects     []vuln.Affected
	Enrichments map[string]vuln.Enrichment
	// FailAt makes the n-th Affected call fail when > 0, to test that
	// parsers stop and report a sink error.
	FailAt int
}

// ErrFull is the error FailAt produces.
var ErrFull = errors.New("sink full")

func (s *Sink) Vulnerability(v vuln.Vulnerability) error {
	s.Vulns = append(s.Vulns, v)
	return nil
}

func (s *Sink) Affected(a vuln.Affected) error {
	if s.FailAt > 0 && len(s.Affects)+1 == s.FailAt {
		return ErrFull
	}
	s.Affects = append(s.Affects, a)
	return nil
}

func (s *Sink) Enrich(cve string, e vuln.Enrichment) error {
	if s.Enrichments == nil {
		s.Enrichments = map[string]vuln.Enrichment{}
	}
	s.Enrichments[cve] = e
	return nil
}

// Find returns the affected records for a package and vulnerability id,
// in ecosystem eco ("" for any).
func (s *Sink) Find(eco, pkg, id string) []vuln.Affected {
	var out []vuln.Affected
	for _, a := range s.Affects {
		if (eco == "" || a.Ecosystem == eco) && a.Package == pkg && a.VulnID == id {
			out = append(out, a)
		}
	}
	return out
}
