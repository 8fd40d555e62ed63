package match

import (
	"github.com/vigil-scan/vigil/internal/cvss"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// parseVectors computes the score of every vector, dropping duplicates
// and, with a warning, vectors that do not parse.
func parseVectors(in []vuln.CVSS, defaultSource string, seen map[string]bool, w *warnings, id string) []vuln.CVSS {
	var out []vuln.CVSS
	for _, c := range in {
		if c.Vector == "" || seen[c.Vector] {
			continue
		}
		seen[c.Vector] = true
		parsed, err := cvss.Parse(c.Vector)
		if err != nil {
			w.add("%s: %v", id, err)
			continue
		}
		parsed.Source = c.Source
		if parsed.Source == "" {
			parsed.Source = defaultSource
		}
		out = append(out, parsed)
	}
	return out
}

// highest returns the vector with the highest score (the newest CVSS
// version wins a tie), or false.
func highest(cs []vuln.CVSS) (vuln.CVSS, bool) {
	var best vuln.CVSS
	found := false
	for _, c := range cs {
		if !found || c.Score > best.Score || (c.Score == best.Score && c.Version > best.Version) {
			best, found = c, true
		}
	}
	return best, found
}

// chooseSeverity fills CVSS, Severity and SeveritySource. Order: the
// distribution's own severity for OS packages (it knows about backports and
// build options); else the highest advisory CVSS; else NVD's CVSS; else
// NVD's severity; else a language advisory's own rating; else UNKNOWN.
func chooseSeverity(f *vuln.Finding, p *inventory.Package, group []unit, vulns []*vuln.Vulnerability, enr vuln.Enrichment, w *warnings) {
	seen := map[string]bool{}
	for _, v := range vulns {
		f.CVSS = append(f.CVSS, parseVectors(v.CVSS, v.Source, seen, w, f.ID)...)
	}
	advisory := len(f.CVSS)
	f.CVSS = append(f.CVSS, parseVectors(enr.CVSS, "nvd", seen, w, f.ID)...)

	vendor, vendorSource := "", ""
	for _, u := range group {
		if s := u.hit.rec.Severity; s != "" && (vendor == "" || vuln.SeverityRank(s) > vuln.SeverityRank(vendor)) {
			vendor, vendorSource = s, u.hit.rec.Source
		}
	}
	if p.IsOS() && vendor != "" {
		f.Severity, f.SeveritySource = vendor, vendorSource
		return
	}
	if best, ok := highest(f.CVSS[:advisory]); ok {
		f.Severity, f.SeveritySource = cvss.SeverityFromScore(best.Version, best.Score), "cvss:"+best.Version
		return
	}
	if best, ok := highest(f.CVSS[advisory:]); ok {
		f.Severity, f.SeveritySource = cvss.SeverityFromScore(best.Version, best.Score), "nvd"
		return
	}
	if enr.NVDSeverity != "" {
		f.Severity, f.SeveritySource = enr.NVDSeverity, "nvd"
		return
	}
	if vendor != "" {
		f.Severity, f.SeveritySource = vendor, vendorSource
		return
	}
	f.Severity, f.SeveritySource = vuln.SeverityUnknown, SeveritySourceNone
}

// SeveritySourceNone is the severity_source of an UNKNOWN severity: no
// vendor rating, no CVSS vector (advisory or NVD), no NVD or advisory label.
const SeveritySourceNone = "none"
