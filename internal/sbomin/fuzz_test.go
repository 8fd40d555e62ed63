package sbomin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

// FuzzRead feeds arbitrary bytes to Read, seeded with every fixture and
// Vigil's own CycloneDX and SPDX output. Read must return an inventory or
// an error, never panic or hang.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, format := range []string{"cyclonedx", "spdx-json", "json"} {
		var buf bytes.Buffer
		if err := report.Write(&buf, format, reporttest.Report(), report.Options{}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","purl":"pkg:rpm/redhat/a@1-2?epoch=3&upstream=a-1-2.src.rpm&distro=almalinux-9.3"}]}`))
	f.Add([]byte("SPDXVersion: SPDX-2.2\nPackageName: a\nSPDXID: SPDXRef-a\nExternalRef: PACKAGE-MANAGER purl pkg:deb/debian/a@1?distro=bookworm\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := read(context.Background(), bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		if inv.Packages == nil {
			t.Fatal("nil package list")
		}
		for _, p := range inv.Packages {
			if p.Layer != nil && p.Layer.Index < -1 {
				t.Fatalf("layer index %d", p.Layer.Index)
			}
		}
	})
}
