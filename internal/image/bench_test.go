package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// BenchmarkReadAlpine310 reads the corpus alpine:3.10 docker-archive (gzip
// outer archive) cold and with every layer cached.
func BenchmarkReadAlpine310(b *testing.B) {
	ref := "docker-archive:" + corpus.Path(b, "images", "alpine-310.tar.gz")
	analyzers := append(catalog.Packages(), &apkCounter{})
	b.Run("cold", func(b *testing.B) {
		opts := Options{TempDir: b.TempDir()}
		for b.Loop() {
			if _, err := Read(context.Background(), ref, analyzers, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		opts := Options{TempDir: b.TempDir(), CacheDir: b.TempDir()}
		if _, err := Read(context.Background(), ref, analyzers, opts); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			inv, err := Read(context.Background(), ref, analyzers, opts)
			if err != nil || len(inv.Packages) != 14 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWalkLayer measures the walk alone over an in-memory gzip layer of
// 2,000 files.
func BenchmarkWalkLayer(b *testing.B) {
	var entries []imagetest.Entry
	body := string(make([]byte, 4096))
	for i := range 2000 {
		entries = append(entries, imagetest.Entry{Name: "srv/f" + string(rune('a'+i%26)) + "/" + itoa(i), Body: body})
	}
	tarBytes := imagetest.LayerTar(b, entries...)
	blob := gzipBytes(b, tarBytes)
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(tarBytes))
	analyzers := withOSRelease(catalog.Packages())
	opts := Options{}.withDefaults()
	b.SetBytes(int64(len(entries) * (len(body) + 512)))
	for b.Loop() {
		if _, err := walkLayer(context.Background(), bytesReader(blob), inventory.Layer{DiffID: diffID}, analyzers, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDebianOwnership measures what OS-package ownership costs: a
// Debian-like layer of 400 packages, each with a dpkg .list of 60 paths
// (one a Python .dist-info it installs) and the files themselves, walked
// and merged with every package cataloger, with and without the dpkg
// file-list analyzer. The ratio of the two is the overhead.
func BenchmarkDebianOwnership(b *testing.B) {
	const pkgs, perList = 400, 60
	var entries []imagetest.Entry
	var status strings.Builder
	body := string(make([]byte, 1024))
	for i := range pkgs {
		name := "python3-pkg" + itoa(i)
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nVersion: 1.0-%d\nArchitecture: all\n\n", name, i)
		meta := fmt.Sprintf("usr/lib/python3/dist-packages/pkg%d-1.0.dist-info/METADATA", i)
		var list strings.Builder
		list.WriteString("/" + meta + "\n")
		entries = append(entries, imagetest.Entry{Name: meta, Body: "Metadata-Version: 2.1\nName: pkg" + itoa(i) + "\nVersion: 1.0\n"})
		for j := range perList - 1 {
			p := fmt.Sprintf("usr/lib/python3/dist-packages/pkg%d/mod%d.py", i, j)
			list.WriteString("/" + p + "\n")
			entries = append(entries, imagetest.Entry{Name: p, Body: body})
		}
		entries = append(entries, imagetest.Entry{Name: "var/lib/dpkg/info/" + name + ".list", Body: list.String()})
	}
	entries = append(entries, imagetest.Entry{Name: "var/lib/dpkg/status", Body: status.String()},
		imagetest.Entry{Name: "etc/os-release", Body: "ID=debian\nVERSION_ID=\"12\"\n"})
	tarBytes := imagetest.LayerTar(b, entries...)
	blob := gzipBytes(b, tarBytes)
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(tarBytes))
	all := withOSRelease(catalog.Packages())
	var without []inventory.Analyzer
	for _, a := range all {
		if a.Name() != "dpkg-files" {
			without = append(without, a)
		}
	}
	opts := Options{}.withDefaults()
	for _, tc := range []struct {
		name      string
		analyzers []inventory.Analyzer
		owned     int
	}{{"without-file-lists", without, 0}, {"with-file-lists", all, pkgs}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tarBytes)))
			// CPU time per op as well: on a shared, loaded machine wall
			// time mostly measures the other processes.
			start := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				r, err := walkLayer(context.Background(), bytesReader(blob), inventory.Layer{DiffID: diffID}, tc.analyzers, opts)
				if err != nil {
					b.Fatal(err)
				}
				inv, _ := merge(nil, []*inventory.LayerResult{r}, nil)
				owned := 0
				for _, p := range inv.Packages {
					if p.Owner != nil {
						owned++
					}
				}
				if owned != tc.owned {
					b.Fatalf("%d owned packages, want %d", owned, tc.owned)
				}
			}
		})
	}
}

// BenchmarkLayerVerification walks one layer of bench/layers.sh's
// synthetic image (run that first; about 100 MiB uncompressed) with and
// without its diff ID, so the ratio of the two is what verifying the
// uncompressed content costs. Run with -count so the two alternate:
//
//	go test ./internal/image -run X -bench LayerVerification -count 6 -cpu 1
func BenchmarkLayerVerification(b *testing.B) {
	blob, err := os.ReadFile(filepath.Join("..", "..", ".cache", "bench", "layer01.tar.gz"))
	if err != nil {
		b.Skipf("no synthetic layer (run bench/layers.sh first): %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, zr)
	if err != nil {
		b.Fatal(err)
	}
	diffID := fmt.Sprintf("sha256:%x", h.Sum(nil))
	analyzers := withOSRelease(catalog.Packages())
	opts := Options{}.withDefaults()
	for _, tc := range []struct{ name, diffID string }{{"unverified", ""}, {"diff-id", diffID}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(n)
			for b.Loop() {
				if _, err := walkLayer(context.Background(), bytes.NewReader(blob), inventory.Layer{DiffID: tc.diffID}, analyzers, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMergeEntryTypes merges the 12 layer results of bench/rescan.sh's
// image (run that first) as a cached re-scan does, with each layer's
// directory and non-directory path hashes (replaceByType) and without, so
// the ratio is what hiding lower paths replaced by another type costs.
func BenchmarkMergeEntryTypes(b *testing.B) {
	blobs, _ := filepath.Glob(filepath.Join("..", "..", ".cache", "bench", "rescan", "layer*.tar.gz"))
	if len(blobs) == 0 {
		b.Skip("no rescan image (run bench/rescan.sh first)")
	}
	analyzers := withOSRelease(catalog.Packages())
	opts := Options{}.withDefaults()
	var with, without []*inventory.LayerResult
	entries, hashes := 0, 0
	for _, p := range blobs {
		blob, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		r, err := walkLayer(context.Background(), bytes.NewReader(blob), inventory.Layer{}, analyzers, opts)
		if err != nil {
			b.Fatal(err)
		}
		entries += int(r.Entries)
		hashes += len(r.Dirs) + len(r.NonDirs)
		with = append(with, r)
		c := *r
		c.Dirs, c.NonDirs = nil, nil
		without = append(without, &c)
	}
	fixed := fixedPaths(analyzers)
	for _, tc := range []struct {
		name    string
		results []*inventory.LayerResult
	}{{"without-types", without}, {"with-types", with}} {
		b.Run(tc.name, func(b *testing.B) {
			start := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				if inv, _ := merge(nil, tc.results, fixed); len(inv.Packages) < 3000 {
					b.Fatalf("%d packages", len(inv.Packages))
				}
			}
		})
	}
	b.Logf("%d layers, %d entries, %d path hashes", len(blobs), entries, hashes)
}
