package harbor

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
)

// bigReport is the fixture report with its findings and packages repeated
// n times (distinct ids), the size of a large distro image's report.
func bigReport(n int) *result.Report {
	rep := reporttest.Report()
	fs, ps := rep.Vulnerabilities, rep.Packages
	rep.Vulnerabilities, rep.Packages = nil, nil
	for i := 0; i < n; i++ {
		for _, f := range fs {
			f.ID = fmt.Sprintf("%s-%d", f.ID, i)
			rep.Vulnerabilities = append(rep.Vulnerabilities, f)
		}
		for _, p := range ps {
			p.Name = fmt.Sprintf("%s-%d", p.Name, i)
			rep.Packages = append(rep.Packages, p)
		}
	}
	return rep
}

// BenchmarkVulnerabilityReport is what one 200 of GET /report costs on
// top of reading the row: decode the stored report, convert, encode.
func BenchmarkVulnerabilityReport(b *testing.B) {
	stored, _ := json.Marshal(bigReport(250)) // 2,000 findings, 2,750 packages
	b.SetBytes(int64(len(stored)))
	for b.Loop() {
		var rep result.Report
		if err := json.Unmarshal(stored, &rep); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(NewVulnerabilityReport(&rep, Artifact{Digest: digest}, Scanner{})); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSbomReport(b *testing.B) {
	rep := bigReport(250)
	for b.Loop() {
		if _, err := NewSbomReport(rep, Artifact{Digest: digest}, Scanner{}, SBOMCycloneDX); err != nil {
			b.Fatal(err)
		}
	}
}
