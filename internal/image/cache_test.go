package image

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestCachedLayersAreNotOpened(t *testing.T) {
	ref := "docker-archive:" + corpus.Path(t, "images", "dive-test-docker-image.tar")
	cache := t.TempDir()
	analyzers := withOSRelease([]inventory.Analyzer{prefixFacts{prefix: "root/"}})
	opts := Options{CacheDir: cache, TempDir: t.TempDir()}.withDefaults()
	cold, err := Read(context.Background(), ref, analyzers, opts)
	if err != nil {
		t.Fatal(err)
	}

	src, err := Open(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := range src.layers {
		src.layers[i].open = func() (io.ReadCloser, error) {
			t.Errorf("layer %d blob opened although cached", i)
			return nil, errors.New("opened")
		}
	}
	start := time.Now()
	results, err := analyzeLayers(context.Background(), src, analyzers, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cached layer results: %v", time.Since(start))
	warm := merge(src.Artifact.Layers, results)
	if len(warm.Files) != len(cold.Files) {
		t.Errorf("cached merge has %d files, cold %d", len(warm.Files), len(cold.Files))
	}

	// A different analyzer set misses the cache.
	other := withOSRelease([]inventory.Analyzer{prefixFacts{prefix: "tmp/"}, &apkCounter{}})
	if r := newLayerCache(opts, other).load(src.layers[0].DiffID); r != nil {
		t.Error("cache hit for a different analyzer set")
	}
	// NoCache bypasses it.
	if newLayerCache(Options{CacheDir: cache, NoCache: true}, analyzers) != nil {
		t.Error("NoCache still caches")
	}
}

func TestCorruptCacheEntryIsAMiss(t *testing.T) {
	cache := t.TempDir()
	c := newLayerCache(Options{CacheDir: cache}.withDefaults(), nil)
	r := &inventory.LayerResult{DiffID: "sha256:abc", Entries: 3}
	if err := c.store(r); err != nil {
		t.Fatal(err)
	}
	if got := c.load("sha256:abc"); got == nil || got.Entries != 3 {
		t.Fatalf("load = %+v", got)
	}
	if err := os.WriteFile(c.path("sha256:abc"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := c.load("sha256:abc"); got != nil {
		t.Errorf("corrupt entry loaded: %+v", got)
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "layers", "*", ".tmp-*"))
	if len(matches) != 0 {
		t.Errorf("temp files left: %v", matches)
	}
}
