package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

// TestMain lets the test binary act as the service process the SIGKILL
// test starts and kills.
func TestMain(m *testing.M) {
	if dir := os.Getenv("VIGIL_TEST_WORKER_DIR"); dir != "" {
		runWorkerProcess(dir, os.Getenv("VIGIL_TEST_MIRROR"))
		return
	}
	os.Exit(m.Run())
}

// runWorkerProcess is a minimal `vigil serve` without HTTP: the store in
// dir, the DB from mirror, workers with short timeouts so a job orphaned by
// a killed process is rescued within seconds.
func runWorkerProcess(dir, mirror string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	keys, err := store.LoadKeyring("", dir)
	if err != nil {
		panic(err)
	}
	st, err := store.Open(ctx, store.Options{DataDir: dir, Keys: keys})
	if err != nil {
		panic(err)
	}
	cdb := &jobs.CurrentDB{Config: config.Config{DBPath: filepath.Join(dir, "db", "vigil.db"), CacheDir: dir, Mirror: mirror,
		Feeds: config.Feeds{Alpine: config.AlpineFeed{Branches: []string{"v3.10"}}}}}
	if err := cdb.Load(); err != nil {
		panic(err)
	}
	q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: cdb, TempDir: dir}, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond,
		RetryBase: 100 * time.Millisecond, JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second, Daily: -1, Refresh: -1})
	if err != nil {
		panic(err)
	}
	if !cdb.Ready() {
		if err := q.Refresh(ctx); err != nil {
			panic(err)
		}
	}
	if err := q.Start(ctx); err != nil {
		panic(err)
	}
	<-ctx.Done()
	q.Stop(context.Background())
}

// A process killed with SIGKILL in the middle of a scan loses nothing:
// the next start finishes the job.
func TestSIGKILLMidScanIsResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits for River's rescuer")
	}
	dir := t.TempDir()
	mirror := feedMirror(t, "v3.10")
	var slow atomic.Bool
	var blobStarted atomic.Int64
	slow.Store(true)
	inner := ggcrregistry.New()
	regSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") && slow.Load() {
			blobStarted.Add(1)
			time.Sleep(30 * time.Second) // the scan hangs here until the kill
		}
		inner.ServeHTTP(w, r)
	}))
	defer regSrv.Close()
	host := strings.TrimPrefix(regSrv.URL, "http://")
	img := alpineImage(t, true)
	slow.Store(false)
	imagetest.Push(t, img, host+"/app/api:1")
	slow.Store(true)
	d, _ := img.Digest()

	// Register the registry and the push event through the store, as the
	// API would, before the service process starts.
	ctx := context.Background()
	keys, _ := store.LoadKeyring("", dir)
	st, err := store.Open(ctx, store.Options{DataDir: dir, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := st.EnsureTenant(ctx, "acme")
	reg, err := st.CreateRegistry(ctx, tn.ID, store.NewRegistry{Name: "r", URL: regSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordEvents(ctx, []store.ImageEvent{{TenantID: tn.ID, RegistryID: reg.ID, Repository: "app/api", Digest: d.String(), Tag: "1", Action: store.ActionPush}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "VIGIL_TEST_WORKER_DIR="+dir, "VIGIL_TEST_MIRROR="+mirror)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	proc := start()
	deadline := time.Now().Add(60 * time.Second)
	for blobStarted.Load() == 0 {
		if time.Now().After(deadline) {
			proc.Process.Kill()
			t.Fatal("the scan never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()
	slow.Store(false)

	proc = start()
	defer func() {
		proc.Process.Signal(syscall.SIGTERM)
		proc.Wait()
	}()
	st, err = store.Open(ctx, store.Options{DataDir: dir, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline = time.Now().Add(120 * time.Second)
	for {
		im, err := st.Image(ctx, tn.ID, d.String())
		if err == nil && im.Status == store.StatusScanned && im.Counts.Total() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed scan was not completed after restart: %+v %v", im, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
