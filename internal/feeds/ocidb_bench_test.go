package feeds

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
)

// BenchmarkFirstRunDownloadOCI measures what a first scan waits for: the
// DB built from the whole corpus (every feed), pulled from a local
// registry (the real docker-registry when installed, else the in-process
// one), verified, decompressed and installed, with an empty cache.
// Target: < 10 s.
func BenchmarkFirstRunDownloadOCI(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "full.db")
	u := &Updater{Config: config.Config{DBPath: src, Mirror: corpus.Path(b, "feeds")}, Fetcher: &Fetcher{}}
	if _, err := u.Update(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	host := ""
	if os.Getenv("VIGIL_BENCH_INPROCESS_REGISTRY") == "" {
		host = imagetest.Distribution(b)
	} else {
		host = imagetest.Registry(b)
	}
	ref := "oci://" + host + "/vigil-db:bench"
	opts := RegistryOptions{Insecure: true, TempDir: dir}
	if _, err := PublishDB(context.Background(), src, ref, opts); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		run := filepath.Join(dir, "run")
		if _, cached, err := InstallOCI(context.Background(), ref, filepath.Join(run, "cache"), filepath.Join(run, "vigil.db"), opts); err != nil || cached {
			b.Fatal(err, cached)
		}
		b.StopTimer()
		os.RemoveAll(run)
		b.StartTimer()
	}
}
