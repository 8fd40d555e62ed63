package sbomin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
)

// pkgKey is what a round trip must keep exactly.
func pkgKey(p inventory.Package) string {
	src := ""
	if p.Source != nil {
		src = p.Source.Name + "@" + p.Source.Version
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|src=%s|path=%s", p.Type, p.Name, p.Version, p.Ecosystem, p.PURL, src, p.Path)
}

func keys(ps []inventory.Package) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, pkgKey(p))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sbomReport(inv *inventory.Inventory) *result.Report {
	return &result.Report{
		SchemaVersion: inventory.SchemaVersion, Tool: result.Tool{Name: "vigil", Version: "test"},
		CreatedAt: time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC),
		Artifact:  inv.Artifact, Packages: inv.Packages,
	}
}

func render(t *testing.T, r *result.Report, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, format, r, report.Options{SBOMOnly: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readBack(t *testing.T, b []byte) *inventory.Inventory {
	t.Helper()
	inv, err := Read(context.Background(), bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return inv
}

// spdxLosesSource reports whether SPDX, which has no field for it, drops
// p's source package: Vigil's SPDX writer keeps the source only through a
// purl upstream qualifier, and sbomin assumes an apk/deb package is its
// own source when none is given.
func spdxLosesSource(p inventory.Package) bool {
	if !p.IsOS() {
		return false
	}
	if p.Source == nil {
		return true
	}
	pp, err := fromPURL(p.PURL)
	if err == nil && pp.pkg.Source != nil {
		return false
	}
	return p.Source.Name != p.Name || p.Source.Version != p.Version
}

func checkRoundTrip(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	if len(inv.Packages) == 0 {
		t.Fatal("image has no packages")
	}
	want := keys(inv.Packages)
	r := sbomReport(inv)

	t.Run("cyclonedx", func(t *testing.T) {
		got := readBack(t, render(t, r, "cyclonedx"))
		if d := diff(want, keys(got.Packages)); d != "" {
			t.Errorf("package set changed:\n%s", d)
		}
		if got.Artifact.OS.Family != inv.Artifact.OS.Family || got.Artifact.OS.Version != inv.Artifact.OS.Version {
			t.Errorf("OS = %+v, want %+v", got.Artifact.OS, inv.Artifact.OS)
		}
		if got.Artifact.Name != inv.Artifact.Name {
			t.Errorf("artifact name = %q, want %q", got.Artifact.Name, inv.Artifact.Name)
		}
		wantLayers := map[string]inventory.LayerRef{}
		for _, p := range inv.Packages {
			if p.Layer != nil {
				wantLayers[pkgKey(p)] = *p.Layer
			}
		}
		for _, p := range got.Packages {
			w, ok := wantLayers[pkgKey(p)]
			if !ok {
				continue
			}
			if p.Layer == nil {
				t.Errorf("%s: layer lost", p.Name)
				continue
			}
			w.Digest = "" // not written by the CycloneDX writer
			if *p.Layer != w {
				t.Errorf("%s: layer = %+v, want %+v", p.Name, *p.Layer, w)
			}
		}
		if len(got.Warnings) != 0 {
			t.Errorf("warnings: %q", got.Warnings)
		}
	})
	t.Run("spdx-json", func(t *testing.T) {
		got := readBack(t, render(t, r, "spdx-json"))
		var wantSPDX []string
		lost := 0
		for _, p := range inv.Packages {
			if spdxLosesSource(p) {
				lost++
				p.Source = &inventory.SourcePackage{Name: p.Name, Version: p.Version}
			}
			wantSPDX = append(wantSPDX, pkgKey(p))
		}
		slices.Sort(wantSPDX)
		if lost > 0 {
			// See the report: the SPDX writer has no place for a source
			// package that differs from the binary's name.
			t.Logf("SPDX dropped the source package of %d of %d packages", lost, len(inv.Packages))
		}
		if d := diff(slices.Compact(wantSPDX), keys(got.Packages)); d != "" {
			t.Errorf("package set changed:\n%s", d)
		}
		if got.Artifact.OS.Family != inv.Artifact.OS.Family || got.Artifact.OS.Version != inv.Artifact.OS.Version {
			t.Errorf("OS = %+v, want %+v", got.Artifact.OS, inv.Artifact.OS)
		}
		for _, p := range got.Packages {
			if p.Layer == nil || p.Layer.DiffID == "" {
				t.Errorf("%s: layer diff ID lost", p.Name)
			}
		}
		if len(got.Warnings) != 0 {
			t.Errorf("warnings: %q", got.Warnings)
		}
	})
}

func diff(want, got []string) string {
	var out bytes.Buffer
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&out, "- %s\n", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&out, "+ %s\n", g)
		}
	}
	return out.String()
}

func TestRoundTripAlpine(t *testing.T) {
	ref := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	inv, err := image.Read(context.Background(), ref, catalog.Packages(), image.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 14 || inv.Artifact.OS.Version != "3.10.4" {
		t.Fatalf("unexpected image: %d packages, OS %+v", len(inv.Packages), inv.Artifact.OS)
	}
	checkRoundTrip(t, inv)
}

// goBinaryImage builds a two-layer OCI layout holding two real Go
// binaries, so Go packages come from different layers, and returns its
// reference.
func goBinaryImage(t *testing.T) string {
	t.Helper()
	var steps []imagetest.Step
	for i, bin := range []struct{ src, dst string }{
		{corpus.Path(t, "pkgdb", "go-binary", "trivy-test.elf"), "usr/local/bin/app"},
		{corpus.Path(t, "pkgdb", "go-binary", "scalibr-module-replacement-linux-amd64"), "opt/tool/tool"},
	} {
		body, err := os.ReadFile(bin.src)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, imagetest.Step{
			CreatedBy: fmt.Sprintf("COPY bin%d /%s # buildkit", i, bin.dst),
			Entries:   []imagetest.Entry{{Name: bin.dst, Body: string(body), Mode: 0o755}},
		})
	}
	return imagetest.WriteLayout(t, imagetest.Build(t, empty.Image, nil, steps...))
}

func TestRoundTripGoBinaries(t *testing.T) {
	inv, err := image.Read(context.Background(), goBinaryImage(t), catalog.Packages(), image.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	layersSeen := map[int]bool{}
	for _, p := range inv.Packages {
		if p.Type != inventory.TypeGolang {
			t.Errorf("unexpected package %+v", p)
		}
		if p.Layer != nil {
			layersSeen[p.Layer.Index] = true
		}
	}
	if len(layersSeen) != 2 {
		t.Fatalf("packages come from layers %v, want 2 layers", layersSeen)
	}
	checkRoundTrip(t, inv)
}

// TestRoundTripFixture covers the report fixture: an apk subpackage whose
// source differs (carried by the upstream qualifier), Go and PyPI packages.
func TestRoundTripFixture(t *testing.T) {
	r := reporttest.Report()
	inv := &inventory.Inventory{Artifact: r.Artifact, Packages: r.Packages}
	checkRoundTrip(t, inv)

	// The full report (with vulnerabilities) reads the same.
	got := readBack(t, render(t, r, "cyclonedx"))
	if d := diff(keys(r.Packages), keys(got.Packages)); d != "" {
		t.Errorf("package set changed:\n%s", d)
	}
	if got.Artifact.Digest != r.Artifact.Digest {
		t.Errorf("digest = %q, want %q", got.Artifact.Digest, r.Artifact.Digest)
	}
}

// The owner of an OS-installed language package survives every format:
// Vigil JSON's owner field, CycloneDX's vigil:owner properties, and SPDX's
// CONTAINS relationship from the OS package.
func TestRoundTripOwner(t *testing.T) {
	r := reporttest.Report()
	inv := &inventory.Inventory{Artifact: r.Artifact, Packages: r.Packages}
	owners := func(ps []inventory.Package) map[string]inventory.Owner {
		out := map[string]inventory.Owner{}
		for _, p := range ps {
			if p.Owner != nil {
				out[p.Type+"/"+p.Name] = *p.Owner
			}
		}
		return out
	}
	want := owners(inv.Packages)
	if len(want) == 0 {
		t.Fatal("fixture has no owned package")
	}
	for _, format := range []string{"json", "cyclonedx", "spdx-json"} {
		got := owners(readBack(t, render(t, sbomReport(inv), format)).Packages)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: owners = %v, want %v", format, got, want)
		}
	}
}
