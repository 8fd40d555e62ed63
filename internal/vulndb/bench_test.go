package vulndb

// Storage comparison behind docs/vulndb.md: the same OSV records loaded
// into the SQLite layout and into a bbolt layout (bucket "affected" keyed
// ecosystem\x00package\x00id\x00n), then looked up.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/osv"
	"github.com/vigil-scan/vigil/internal/vuln"
	bolt "go.etcd.io/bbolt"
)

var benchEcosystems = []string{"Go", "PyPI", "crates.io", "AlmaLinux"}

func fileSize(tb testing.TB, path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return float64(fi.Size())
}

func BenchmarkImportSQLite(b *testing.B) {
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "vigil.db")
		importZips(b, path, benchEcosystems...)
		b.ReportMetric(fileSize(b, path)/1e6, "MB")
	}
}

// boltSink is the bbolt layout that lost the comparison.
type boltSink struct {
	db *bolt.DB
	tx *bolt.Tx
	n  int
}

func (s *boltSink) bucket(name string) *bolt.Bucket {
	if s.tx == nil {
		s.tx, _ = s.db.Begin(true)
	}
	bk, _ := s.tx.CreateBucketIfNotExists([]byte(name))
	return bk
}

func (s *boltSink) put(bucket, key string, v any) error {
	data, _ := json.Marshal(v)
	if err := s.bucket(bucket).Put([]byte(key), data); err != nil {
		return err
	}
	if s.n++; s.n%batchSize == 0 {
		err := s.tx.Commit()
		s.tx = nil
		return err
	}
	return nil
}

func (s *boltSink) Vulnerability(v vuln.Vulnerability) error { return s.put("vulnerability", v.ID, v) }
func (s *boltSink) Affected(a vuln.Affected) error {
	return s.put("affected", fmt.Sprintf("%s\x00%s\x00%s\x00%d", a.Ecosystem, a.Package, a.VulnID, s.n), a)
}
func (s *boltSink) Enrich(cve string, e vuln.Enrichment) error { return s.put("enrichment", cve, e) }

func buildBolt(tb testing.TB, path string) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	s := &boltSink{db: db}
	for _, eco := range benchEcosystems {
		f, _ := os.Open(corpus.Path(tb, "feeds", "osv", eco, "all.zip"))
		fi, _ := f.Stat()
		if _, err := osv.ImportZip(context.Background(), f, fi.Size(), s); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	if s.tx != nil {
		s.tx.Commit()
	}
	db.Sync()
	db.Close()
}

func BenchmarkImportBbolt(b *testing.B) {
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "vigil.bolt")
		buildBolt(b, path)
		b.ReportMetric(fileSize(b, path)/1e6, "MB")
	}
}

func boltAffected(db *bolt.DB, eco, pkg string) ([]vuln.Affected, error) {
	var out []vuln.Affected
	prefix := []byte(eco + "\x00" + pkg + "\x00")
	err := db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("affected")).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a vuln.Affected
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// lookupKeys are real (ecosystem, package) pairs, from busy to rare.
var lookupKeys = [][2]string{
	{"Go", "stdlib"}, {"Go", "golang.org/x/net"}, {"PyPI", "django"}, {"crates.io", "tough"},
	{"AlmaLinux:9", "thunderbird"}, {"AlmaLinux:8", "kernel"}, {"Go", "no.such/module"},
}

func benchDB(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "vigil.db")
	importZips(b, path, benchEcosystems...)
	return path
}

// BenchmarkAffected is the warm path every scan takes: cached lookups.
func BenchmarkAffected(b *testing.B) {
	db, err := Open(benchDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var i atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := lookupKeys[i.Add(1)%int64(len(lookupKeys))]
			if _, err := db.Affected(ctx, k[0], k[1]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAffectedUncached measures SQLite itself (cache bypassed).
func BenchmarkAffectedUncached(b *testing.B) {
	db, err := Open(benchDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	n := 0
	for b.Loop() {
		k := lookupKeys[n%len(lookupKeys)]
		n++
		db.affected = newCache[[]vuln.Affected](1)
		if _, err := db.Affected(ctx, k[0], k[1]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAffectedBbolt(b *testing.B) {
	path := filepath.Join(b.TempDir(), "vigil.bolt")
	buildBolt(b, path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	n := 0
	for b.Loop() {
		k := lookupKeys[n%len(lookupKeys)]
		n++
		if _, err := boltAffected(db, k[0], k[1]); err != nil {
			b.Fatal(err)
		}
	}
}

// writeSyntheticZip writes an OSV zip holding the Go dump copied times
// times with renamed ids and modules, to show import memory is flat.
func writeSyntheticZip(tb testing.TB, dst string, times int) int {
	tb.Helper()
	zr, err := zip.OpenReader(corpus.Path(tb, "feeds", "osv", "Go", "all.zip"))
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	os.MkdirAll(filepath.Dir(dst), 0o755)
	out, err := os.Create(dst)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	n := 0
	for copyN := range times {
		for _, f := range zr.File {
			rc, _ := f.Open()
			data, _ := io.ReadAll(rc)
			rc.Close()
			id := strings.TrimSuffix(f.Name, ".json")
			newID := fmt.Sprintf("%s-X%d", id, copyN)
			data = bytes.ReplaceAll(data, []byte(`"`+id+`"`), []byte(`"`+newID+`"`))
			data = bytes.ReplaceAll(data, []byte(`"name": "`), fmt.Appendf(nil, `"name": "x%d.example/`, copyN))
			w, _ := zw.Create(newID + ".json")
			w.Write(data)
			n++
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestSyntheticFeed writes a 10x Go feed mirror to $VIGIL_SYNTH_DIR for
// the memory measurement in docs/vulndb.md (skipped otherwise).
func TestSyntheticFeed(t *testing.T) {
	dir := os.Getenv("VIGIL_SYNTH_DIR")
	if dir == "" {
		t.Skip("set VIGIL_SYNTH_DIR to write the synthetic 10x feed")
	}
	n := writeSyntheticZip(t, filepath.Join(dir, "osv", "Go", "all.zip"), 10)
	t.Logf("wrote %d records", n)
}

// TestImportMemoryFlat imports 1x and 4x feeds and checks the peak heap
// does not grow with the feed.
func TestImportMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a 4x feed")
	}
	dir := t.TempDir()
	peak := func(times int) uint64 {
		zipPath := filepath.Join(dir, fmt.Sprint(times), "all.zip")
		writeSyntheticZip(t, zipPath, times)
		runtime.GC()
		var max atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > max.Load() {
					max.Store(ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		b, err := Create(context.Background(), filepath.Join(dir, fmt.Sprint(times), "vigil.db"))
		if err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(zipPath)
		fi, _ := f.Stat()
		if _, err := osv.ImportZip(context.Background(), f, fi.Size(), b.Feed("osv/Go")); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		close(stop)
		return max.Load()
	}
	p1, p4 := peak(1), peak(4)
	t.Logf("peak heap in use: 1x %.1f MB, 4x %.1f MB", float64(p1)/1e6, float64(p4)/1e6)
	if p4 > 2*p1+8<<20 {
		t.Errorf("peak heap grew with the feed: 1x %d, 4x %d", p1, p4)
	}
}
