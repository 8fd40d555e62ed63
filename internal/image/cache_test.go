package image

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	warm, _ := merge(src.Artifact.Layers, results, nil)
	if len(warm.Files) != len(cold.Files) {
		t.Errorf("cached merge has %d files, cold %d", len(warm.Files), len(cold.Files))
	}

	// A different analyzer set misses the cache.
	other := withOSRelease([]inventory.Analyzer{prefixFacts{prefix: "tmp/"}, &apkCounter{}})
	if r, _ := newLayerCache(opts, other).load(src.layers[0].DiffID); r != nil {
		t.Error("cache hit for a different analyzer set")
	}
	// NoCache bypasses it.
	if newLayerCache(Options{CacheDir: cache, NoCache: true}, analyzers) != nil {
		t.Error("NoCache still caches")
	}
}

func TestCorruptCacheEntryIsAMiss(t *testing.T) {
	const diffID = "sha256:abc"
	good := &inventory.LayerResult{DiffID: diffID, Entries: 3, Packages: []inventory.Package{{Name: "musl", Version: "1.1"}}}
	valid, err := encodeCacheEntry(good)
	if err != nil {
		t.Fatal(err)
	}
	// A valid payload listing no packages, under the original checksum.
	emptyPayload := payloadOf(t, mustEntry(t, &inventory.LayerResult{DiffID: diffID, Entries: 3}))
	tests := []struct {
		name    string
		write   func(t *testing.T, p string)
		wantErr string
	}{
		{"not json", writeBytes([]byte("{not json")), "no header"},
		{"rewritten payload", writeBytes(append(headerOf(valid), emptyPayload...)), "checksum mismatch"},
		{"truncated", writeBytes(valid[:len(valid)-5]), "checksum mismatch"},
		{"header only", writeBytes(valid[:len(cacheMagic)+10]), "no header"},
		{"another diff ID", writeBytes(mustEntry(t, &inventory.LayerResult{DiffID: "sha256:other"})), "holds diff ID sha256:other"},
		{"fifo", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("no FIFOs:", err)
			}
		}, "not a regular file"},
		{"symlink to /dev/zero", func(t *testing.T, p string) {
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"symlink to a valid entry", func(t *testing.T, p string) {
			other := filepath.Join(t.TempDir(), "entry")
			writeBytes(valid)(t, other)
			if err := os.Symlink(other, p); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"directory", func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			c := newLayerCache(Options{CacheDir: cache}.withDefaults(), nil)
			if err := c.store(good); err != nil {
				t.Fatal(err)
			}
			if got, err := c.load(diffID); err != nil || got == nil || got.Entries != 3 {
				t.Fatalf("load = %+v, %v", got, err)
			}
			p := c.path(diffID)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			tc.write(t, p)
			done := make(chan struct{})
			var got *inventory.LayerResult
			go func() {
				defer close(done)
				got, err = c.load(diffID)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("load hangs")
			}
			if got != nil {
				t.Errorf("untrusted entry loaded: %+v", got)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			// The next store replaces whatever was there.
			if tc.name != "directory" {
				if err := c.store(good); err != nil {
					t.Fatal(err)
				}
				if got, err := c.load(diffID); err != nil || got == nil {
					t.Errorf("after store: %+v, %v", got, err)
				}
			}
			matches, _ := filepath.Glob(filepath.Join(cache, "layers", "*", ".tmp-*"))
			if len(matches) != 0 {
				t.Errorf("temp files left: %v", matches)
			}
		})
	}
}

func TestOversizedCacheEntryIsNotRead(t *testing.T) {
	c := newLayerCache(Options{CacheDir: t.TempDir()}.withDefaults(), nil)
	p := c.path("sha256:abc")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: no disk used.
	if err := f.Truncate(maxCacheEntry + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, err := c.load("sha256:abc"); got != nil || err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("load = %v, %v", got, err)
	}
}

func writeBytes(b []byte) func(t *testing.T, p string) {
	return func(t *testing.T, p string) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustEntry(t *testing.T, r *inventory.LayerResult) []byte {
	b, err := encodeCacheEntry(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// headerOf and payloadOf split a cache entry.
func headerOf(entry []byte) []byte {
	return append([]byte(nil), entry[:len(cacheMagic)+2*sha256.Size+1]...)
}

func payloadOf(t *testing.T, entry []byte) []byte {
	if len(entry) < len(cacheMagic)+2*sha256.Size+1 {
		t.Fatalf("entry of %d bytes", len(entry))
	}
	return entry[len(cacheMagic)+2*sha256.Size+1:]
}

// FuzzCacheEntry feeds arbitrary bytes to the cache entry decoder: it must
// decode or fail, never panic, and whatever it decodes must re-encode to an
// entry that decodes to the same result.
func FuzzCacheEntry(f *testing.F) {
	for _, r := range []*inventory.LayerResult{
		{DiffID: "sha256:abc", Entries: 3},
		{DiffID: "sha256:def", Packages: []inventory.Package{{Name: "musl", Version: "1.1", Path: "lib/apk/db/installed"}},
			Files: map[string][]byte{"etc/os-release": []byte("ID=alpine\n")}, Symlinks: map[string]string{"a": "b"},
			Whiteouts: []string{"x"}, OpaqueDirs: []string{"y"}},
	} {
		b, err := encodeCacheEntry(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(cacheMagic))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeCacheEntry(b)
		if err != nil {
			return
		}
		again, err := encodeCacheEntry(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeCacheEntry(again); err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
	})
}
