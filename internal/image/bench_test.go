package image

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

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
