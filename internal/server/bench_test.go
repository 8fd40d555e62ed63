package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/loadtest"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
)

// BenchmarkWebhookIntake measures Distribution notifications over real
// HTTP (loopback) into SQLite: 32 concurrent senders, one event per
// delivery as the registry sends them, every event delivered twice (the
// second is a duplicate and changes nothing). Each new event records the
// dedup row, repository, image and tag and enqueues a unique scan job.
// It reports new events/s and deliveries/s, and checks that exactly one
// scan job per digest was queued.
func BenchmarkWebhookIntake(b *testing.B) {
	ctx := context.Background()
	st := openStoreB(b)
	q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: &jobs.CurrentDB{}}, jobs.Options{Work: false})
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Options{Store: st, Queue: q, IngestRate: 1e9})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	t, _ := st.EnsureTenant(ctx, "bench")
	reg, err := st.CreateRegistry(ctx, t.ID, store.NewRegistry{Name: "r", URL: "http://127.0.0.1:1", WebhookSecret: "s"})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body := func(i int) string {
		return fmt.Sprintf(`{"events":[{"id":"ev-%d","action":"push","timestamp":"2026-01-01T00:00:00Z","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","repository":"team/app%d","tag":"v%d"}}]}`, i, i, i%50, i)
	}
	send := func(i int) (string, error) {
		req, _ := http.NewRequest("POST", hs.URL+"/api/v1/webhooks/distribution/"+reg.ID, strings.NewReader(body(i)))
		req.Header.Set("Authorization", "Bearer s")
		req.Header.Set("Content-Type", "application/vnd.docker.distribution.events.v2+json")
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusAccepted {
			return "", fmt.Errorf("status %d: %s", resp.StatusCode, out)
		}
		return string(out), nil
	}
	const senders = 32
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				first, err := send(i)
				if err == nil && !strings.Contains(first, `"accepted":1`) {
					err = fmt.Errorf("first delivery: %s", first)
				}
				if err == nil {
					var again string
					again, err = send(i)
					if err == nil && !strings.Contains(again, `"duplicates":1`) {
						err = fmt.Errorf("redelivery not a duplicate: %s", again)
					}
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed, "events/s")
	b.ReportMetric(float64(2*b.N)/elapsed, "deliveries/s")
	// CPU per event (server and load generator together) says what the
	// machine sustains when the benchmark has it alone, whatever else
	// runs: cores / cpu-µs/event.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	if b.N <= 10000 {
		if stats, err := q.Stats(ctx); err != nil || stats.Available != b.N {
			b.Fatalf("%d scan jobs queued for %d digests (%v)", stats.Available, b.N, err)
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func openStoreB(b *testing.B) *store.Store {
	keys, err := store.LoadKeyring("", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Options{DataDir: b.TempDir(), Keys: keys})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkReevaluate stores VIGIL_BENCH_IMAGES images (default 1,000) of
// 300 apk packages each (250 in a shared base layer, 50 in the image's own
// layer) through the store, then re-evaluates all of them from their
// stored layers against the corpus Alpine 3.10 secdb; it reports images/s.
// bench/serve/run.sh runs it on SQLite and PostgreSQL.
func BenchmarkReevaluate(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			st := openBenchStore(b, backend)
			mirror := b.TempDir()
			os.MkdirAll(filepath.Join(mirror, "alpine-secdb"), 0o755)
			os.Symlink(corpus.Path(b, "feeds", "alpine-secdb", "v3.10"), filepath.Join(mirror, "alpine-secdb", "v3.10"))
			dataDir := b.TempDir()
			cdb := &jobs.CurrentDB{Config: config.Config{DBPath: filepath.Join(dataDir, "db", "vigil.db"), CacheDir: dataDir, Mirror: mirror,
				Feeds: config.Feeds{Alpine: config.AlpineFeed{Branches: []string{"v3.10"}}}}}
			defer cdb.Close()
			q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: cdb}, jobs.Options{Work: false})
			if err != nil {
				b.Fatal(err)
			}
			if err := q.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
			n := 1000
			if v, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_IMAGES")); v > 0 {
				n = v
			}
			seeded, err := loadtest.Seed(ctx, st, n, corpus.Path(b, "pkgdb", "os-release", "claircore-alpine-3.10", "etc", "os-release"))
			if err != nil {
				b.Fatal(err)
			}
			ids := seeded.IDs
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start, cpu0 := time.Now(), cpuTime()
				done, err := q.Reevaluate(ctx, ids, "daily")
				if err != nil || done != n {
					b.Fatalf("re-evaluated %d of %d: %v", done, n, err)
				}
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "images/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/image")
			}
		})
	}
}

func openBenchStore(b *testing.B, backend string) *store.Store {
	if backend == "sqlite" {
		return openStoreB(b)
	}
	keys, _ := store.LoadKeyring("", b.TempDir())
	schema := fmt.Sprintf("vigil_bench_%d", time.Now().UnixNano())
	st, err := store.Open(context.Background(), store.Options{URL: pgURL, Schema: schema, Keys: keys})
	if err != nil {
		b.Skipf("no PostgreSQL: %v", err)
	}
	b.Cleanup(func() {
		st.Close()
		if c, err := pgx.Connect(context.Background(), pgURL); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	return st
}

// BenchmarkAdvisoryReevaluation measures a new advisory reaching stored
// images: VIGIL_BENCH_IMAGES images (default 1,000) are stored against a DB
// built from the corpus Alpine 3.10 secdb without its musl advisories; the
// full secdb is then refreshed in, and the time from the refresh to the
// last affected image re-evaluated (every image holds musl in its shared
// base layer) is reported, with the queue's own workers (default
// concurrency, River polling) doing the work.
func BenchmarkAdvisoryReevaluation(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			st := openBenchStore(b, backend)
			full, err := os.ReadFile(corpus.Path(b, "feeds", "alpine-secdb", "v3.10", "main.yaml"))
			if err != nil {
				b.Fatal(err)
			}
			withoutMusl := regexp.MustCompile(`(?s)\n  - pkg:\n      name: musl\n.*?(\n  - pkg:)`).ReplaceAll(full, []byte("$1"))
			if len(withoutMusl) == len(full) {
				b.Fatal("no musl entry in the corpus secdb")
			}
			mirror := b.TempDir()
			feed := filepath.Join(mirror, "alpine-secdb", "v3.10")
			os.MkdirAll(feed, 0o755)
			os.Symlink(corpus.Path(b, "feeds", "alpine-secdb", "v3.10", "community.yaml"), filepath.Join(feed, "community.yaml"))
			if err := os.WriteFile(filepath.Join(feed, "main.yaml"), withoutMusl, 0o644); err != nil {
				b.Fatal(err)
			}
			dataDir := b.TempDir()
			cdb := &jobs.CurrentDB{Config: config.Config{DBPath: filepath.Join(dataDir, "db", "vigil.db"), CacheDir: dataDir, Mirror: mirror,
				Feeds: config.Feeds{Alpine: config.AlpineFeed{Branches: []string{"v3.10"}}}}}
			defer cdb.Close()
			q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: cdb}, jobs.Options{Work: true, Daily: -1, Refresh: -1})
			if err != nil {
				b.Fatal(err)
			}
			if err := q.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
			n := 1000
			if v, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_IMAGES")); v > 0 {
				n = v
			}
			seeded, err := loadtest.Seed(ctx, st, n, corpus.Path(b, "pkgdb", "os-release", "claircore-alpine-3.10", "etc", "os-release"))
			if err != nil {
				b.Fatal(err)
			}
			// The images were scanned before the advisory existed.
			if done, err := q.Reevaluate(ctx, seeded.IDs, "scan"); err != nil || done != n {
				b.Fatalf("evaluated %d of %d: %v", done, n, err)
			}
			if err := q.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer q.Stop(ctx)
			if err := os.WriteFile(filepath.Join(feed, "main.yaml"), full, 0o644); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			if err := q.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
			for {
				s, err := q.Stats(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if s.Available+s.Running+s.Retryable+s.Scheduled == 0 {
					break
				}
				if time.Since(start) > 10*time.Minute {
					b.Fatalf("re-evaluation still running after 10 minutes: %+v", s)
				}
				time.Sleep(50 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(elapsed.Seconds(), "s-to-all-reevaluated")
			b.ReportMetric(float64(n)/elapsed.Seconds(), "images/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/image")
			if fails, _ := q.Failures(ctx, 10); len(fails) > 0 {
				b.Fatalf("failed jobs: %+v", fails)
			}
			for _, d := range []string{seeded.Digests[0], seeded.Digests[n-1]} {
				page, err := st.Findings(ctx, seeded.TenantID, store.FindingFilter{Digest: d, Package: "musl", States: []string{store.StateOpen}, Limit: 50})
				if err != nil || len(page.Items) == 0 {
					all, _ := st.Findings(ctx, seeded.TenantID, store.FindingFilter{Digest: d, Limit: 50})
					for _, f := range all.Items {
						b.Logf("%+v", f)
					}
					b.Fatalf("%s: no open musl finding after the refresh (%v)", d, err)
				}
			}
		})
	}
}
