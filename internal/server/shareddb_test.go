package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

// Processes scaled out on one PostgreSQL share the DB the refresh builds:
// a second worker loads the published build at start and, for the
// re-evaluation a later refresh queues, loads the new build before
// matching, without one request to the feeds.
func TestWorkersShareOneDB(t *testing.T) {
	ctx := context.Background()
	mirror, link := partialMirror(t)
	link("community.yaml")
	// Process A: the service, which refreshes from the feeds.
	e := newEnvWith(t, "postgres", mirror, func(e *env, db *jobs.CurrentDB) { db.Shared = e.st })

	// Process B: a worker with its own connection and data directory, and
	// feeds it must never touch.
	var feedGets atomic.Int64
	feedsB := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feedGets.Add(1)
		http.Error(w, "worker B fetched a feed", http.StatusInternalServerError)
	}))
	t.Cleanup(feedsB.Close)
	stB, err := store.Open(ctx, e.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stB.Close() })
	dirB := t.TempDir()
	dbB := &jobs.CurrentDB{Config: config.Config{DBPath: filepath.Join(dirB, "db", "vigil.db"), CacheDir: dirB, Mirror: feedsB.URL,
		Feeds: config.Feeds{Alpine: config.AlpineFeed{Branches: []string{"v3.10"}}}}, Shared: stB, Fetcher: &feeds.Fetcher{BaseDelay: time.Millisecond}}
	t.Cleanup(func() { dbB.Close() })
	if err := dbB.Load(); err != nil {
		t.Fatal(err)
	}
	if ok, err := dbB.Sync(ctx); !ok || err != nil {
		t.Fatalf("worker B did not load the shared build: %v %v", ok, err)
	}
	if dbB.Digest() != e.db.Digest() || dbB.Info().Built != e.db.Info().Built {
		t.Fatalf("worker B serves %s, the refresh built %s", dbB.Digest(), e.db.Digest())
	}
	qB, err := jobs.New(ctx, jobs.Deps{Store: stB, DB: dbB, TempDir: t.TempDir()},
		jobs.Options{Work: true, Concurrency: 2, PollInterval: 50 * time.Millisecond, RetryBase: 200 * time.Millisecond, Daily: -1, Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := qB.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		qB.Stop(c)
	})

	e.startRegistry("s")
	digest := e.push(alpineImage(t, true), "library/alpine:3.10")
	if im := e.waitImage(digest, store.StatusScanned); im.Counts.Total() != 0 {
		t.Fatalf("findings before the main secdb arrived: %+v", im.Counts)
	}

	// From now on only B works jobs; A refreshes with the main secdb.
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	e.q.Stop(stop)
	cancel()
	before := e.db.Digest()
	link("main.yaml")
	if err := e.q.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if e.db.Digest() == before {
		t.Fatal("the refresh built nothing new")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var im store.Image
		e.do("GET", "/api/v1/images/"+digest, e.admin, nil, 200, &im)
		if im.Counts.Total() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker B did not re-evaluate with the new build: %+v (B serves %s, A %s)", im.Counts, dbB.Digest(), e.db.Digest())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if dbB.Digest() != e.db.Digest() {
		t.Errorf("worker B serves %s, the refresh built %s", dbB.Digest(), e.db.Digest())
	}
	if n := feedGets.Load(); n != 0 {
		t.Errorf("worker B made %d feed requests", n)
	}

	// A refresh that fails on A shows on B too (its GET /api/v1/db), and B
	// keeps serving the last build.
	good := e.db.Digest()
	for _, f := range []string{"main.yaml", "community.yaml"} {
		os.Remove(filepath.Join(mirror, "alpine-secdb", "v3.10", f))
	}
	if err := e.q.Refresh(ctx); err == nil {
		t.Fatal("a refresh with no feed succeeded")
	}
	if _, err := dbB.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if in := dbB.Info(); in.LastRefreshError == "" || in.LastRefreshAt == nil || in.Digest != good {
		t.Errorf("worker B after A's failed refresh: error %q at %v, serving %s (want %s)", in.LastRefreshError, in.LastRefreshAt, in.Digest, good)
	}
}
