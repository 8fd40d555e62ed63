package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// Published DB builds come back byte for byte across chunk boundaries,
// are stored once per digest, and only the newest two are kept.
func TestVulnDBBuilds(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		if _, err := st.LatestVulnDB(ctx); !errors.Is(err, ErrNotFound) {
			t.Fatalf("empty store: %v", err)
		}
		// The bytes are opaque to the store: random ones cover the chunking.
		var builds [][]byte
		var digests []string
		for i, size := range []int{2*vulnDBChunk + 123, vulnDBChunk, 10} {
			b := make([]byte, size)
			rand.Read(b)
			sum := sha256.Sum256(b)
			d := "sha256:" + hex.EncodeToString(sum[:])
			built := time.Date(2026, 12, 6, 10+i, 0, 0, 0, time.UTC)
			for range 2 { // the second publish of a digest is a no-op
				if err := st.PublishVulnDB(ctx, bytes.NewReader(b), d, built, int64(size), 2); err != nil {
					t.Fatal(err)
				}
			}
			builds, digests = append(builds, b), append(digests, d)
			latest, err := st.LatestVulnDB(ctx)
			if err != nil || latest.Digest != d || !latest.Built.Equal(built) || latest.Size != int64(size) {
				t.Fatalf("latest after build %d: %+v %v", i, latest, err)
			}
			var got bytes.Buffer
			if err := st.ReadVulnDB(ctx, latest, &got); err != nil || !bytes.Equal(got.Bytes(), b) {
				t.Fatalf("build %d read back: %d bytes, %v", i, got.Len(), err)
			}
		}
		var n int
		st.queryRow(ctx, "SELECT COUNT(*) FROM vulndb_builds").Scan(&n)
		var chunks int
		st.queryRow(ctx, "SELECT COUNT(*) FROM vulndb_chunks").Scan(&chunks)
		if n != 2 || chunks != 2 {
			t.Errorf("%d builds and %d chunks kept, want the newest 2 builds (2 chunks)", n, chunks)
		}
		// A reader of a dropped build gets ErrNotFound, not a short file.
		if err := st.ReadVulnDB(ctx, VulnDBBuild{ID: 1, Digest: digests[0], Size: int64(len(builds[0]))}, &bytes.Buffer{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("dropped build: %v", err)
		}
		// The last refresh's outcome: one row, replaced.
		if _, _, err := st.LastVulnDBRefresh(ctx); !errors.Is(err, ErrNotFound) {
			t.Errorf("no refresh yet: %v", err)
		}
		at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		st.RecordVulnDBRefresh(ctx, at, "feed broken")
		if err := st.RecordVulnDBRefresh(ctx, at.Add(time.Hour), ""); err != nil {
			t.Fatal(err)
		}
		if got, msg, err := st.LastVulnDBRefresh(ctx); err != nil || !got.Equal(at.Add(time.Hour)) || msg != "" {
			t.Errorf("last refresh: %v %q %v", got, msg, err)
		}
		// A reader that says the wrong size fails.
		if err := st.PublishVulnDB(ctx, bytes.NewReader([]byte("short")), "sha256:"+hex.EncodeToString(make([]byte, 32)), time.Now(), 99, 2); err == nil {
			t.Error("publish of a short file succeeded")
		}
	})
}

// BenchmarkVulnDBShare publishes and reads back a 64 MiB DB file: what a
// refresh adds, and what every other process pays to load a build.
func BenchmarkVulnDBShare(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			st := OpenTestStore(b, backend)
			ctx := context.Background()
			data := make([]byte, 64<<20)
			rand.Read(data)
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				data[0] = byte(i) // a new build each time
				sum := sha256.Sum256(data)
				d := "sha256:" + hex.EncodeToString(sum[:])
				if err := st.PublishVulnDB(ctx, bytes.NewReader(data), d, time.Now(), int64(len(data)), 2); err != nil {
					b.Fatal(err)
				}
				latest, err := st.LatestVulnDB(ctx)
				if err != nil {
					b.Fatal(err)
				}
				h := sha256.New()
				if err := st.ReadVulnDB(ctx, latest, h); err != nil {
					b.Fatal(err)
				}
				if "sha256:"+hex.EncodeToString(h.Sum(nil)) != d {
					b.Fatal("digest mismatch")
				}
			}
		})
	}
}
