package policy

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// bigCase builds a report with n findings and a policy with n/10 ignore
// rules and n/2 VEX statements.
func bigCase(b testing.TB, n int) (*Policy, func() *result.Report) {
	var doc strings.Builder
	doc.WriteString("version: 1\nignore:\n")
	for i := range n / 10 {
		fmt.Fprintf(&doc, "  - id: CVE-2024-%d\n    package: 'pkg%d*'\n    reason: r\n    expires: 2030-01-01\n", i*10, i)
	}
	p, _, err := parseFile("p.yaml", []byte(doc.String()))
	if err != nil {
		b.Fatal(err)
	}
	var vex strings.Builder
	vex.WriteString(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [`)
	for i := range n / 2 {
		if i > 0 {
			vex.WriteString(",")
		}
		fmt.Fprintf(&vex, `{"vulnerability": {"name": "CVE-2024-%d"}, "products": [{"@id": "pkg:oci/app", "subcomponents": ["pkg:npm/pkg%d"]}], "status": "not_affected", "justification": "component_not_present"}`, i*2+1, i*2+1)
	}
	vex.WriteString("]}")
	stmts, err := parseVEX("v.json", []byte(vex.String()))
	if err != nil {
		b.Fatal(err)
	}
	p = Merge(p, &Policy{vex: stmts})
	base := reporttest.Report()
	mk := func() *result.Report {
		r := *base
		r.Vulnerabilities = make([]vuln.Finding, n)
		for i := range n {
			r.Vulnerabilities[i] = vuln.Finding{ID: fmt.Sprintf("CVE-2024-%d", i), Severity: vuln.SeverityHigh,
				Package: vuln.PackageRef{Name: fmt.Sprintf("pkg%d", i), PURL: fmt.Sprintf("pkg:npm/pkg%d@1.0.0", i)}}
		}
		return &r
	}
	return p, mk
}

func TestApplyLarge(t *testing.T) {
	p, mk := bigCase(t, 2000)
	r := mk()
	p.Apply(r, testNow)
	r.Summarize()
	// Every 10th finding is ignored by a rule, every odd one by VEX.
	if want := 2000/10 + 2000/2; r.Summary.Suppressed != want {
		t.Errorf("suppressed %d, want %d", r.Summary.Suppressed, want)
	}
}

func TestApplyConcurrent(t *testing.T) {
	p := Merge(mustLoad(t, LoadFile, "vigil.yaml"), mustLoad(t, LoadAllowlist, "allowedlist.yaml"),
		mustLoad(t, LoadVEX, "app.openvex.json"), mustLoad(t, LoadVEX, "app.cdx.json"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			r := reporttest.Report()
			p.Apply(r, testNow)
			Evaluate(r, GateOptions{Threshold: "HIGH"})
		})
	}
	wg.Wait()
}

func BenchmarkApply(b *testing.B) {
	p, mk := bigCase(b, 10000)
	reports := make([]*result.Report, b.N)
	for i := range reports {
		reports[i] = mk()
	}
	b.ResetTimer()
	for i := range b.N {
		p.Apply(reports[i], testNow)
	}
}

func BenchmarkParseVEX(b *testing.B) {
	var vex strings.Builder
	vex.WriteString(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [`)
	for i := range 10000 {
		if i > 0 {
			vex.WriteString(",")
		}
		fmt.Fprintf(&vex, `{"vulnerability": {"name": "CVE-2024-%d"}, "products": [{"@id": "pkg:oci/app", "subcomponents": ["pkg:npm/pkg%d"]}], "status": "not_affected", "justification": "component_not_present"}`, i, i)
	}
	vex.WriteString("]}")
	data := []byte(vex.String())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := parseVEX("v.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
