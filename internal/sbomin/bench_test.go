package sbomin

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

// benchSBOM renders n packages (the fixture's, renamed) in format.
func benchSBOM(b *testing.B, n int, format string) []byte {
	r := reporttest.Report()
	base := reporttest.Packages()
	r.Packages = make([]inventory.Package, 0, n)
	r.Vulnerabilities = nil
	for i := range n {
		p := base[i%len(base)]
		p.Name = fmt.Sprintf("%s-%d", p.Name, i)
		p.PURL = fmt.Sprintf("pkg:%s/%s@%s", p.Type, p.Name, p.Version)
		r.Packages = append(r.Packages, p)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, format, r, report.Options{SBOMOnly: true}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkRead(b *testing.B) {
	for _, format := range []string{"cyclonedx", "spdx-json"} {
		in := benchSBOM(b, 10000, format)
		b.Run(format, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				inv, err := Read(context.Background(), bytes.NewReader(in))
				if err != nil || len(inv.Packages) != 10000 {
					b.Fatalf("%v, %d packages", err, len(inv.Packages))
				}
			}
		})
	}
}
