package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
)

// TestIntakeSurvivesFailedBatch makes the shared webhook batch writer fail
// inside its real store transaction, once with a panic and once with an
// error, while other deliveries wait for it: every delivery of a failed
// batch answers 500 (the registry retries) instead of hanging, nothing of
// it is stored, and the deliveries after it are written as usual.
func TestIntakeSurvivesFailedBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		st := openStore(t, backend)
		q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: &jobs.CurrentDB{}}, jobs.Options{Work: false})
		if err != nil {
			t.Fatal(err)
		}
		srv := server.New(server.Options{Store: st, Queue: q, IngestRate: 1e9})
		hs := httptest.NewServer(srv)
		defer hs.Close()
		tn, _ := st.EnsureTenant(ctx, "t")
		reg, err := st.CreateRegistry(ctx, tn.ID, store.NewRegistry{Name: "r", URL: "http://127.0.0.1:1", WebhookSecret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		// The client gives up long before a test timeout: a delivery stuck
		// behind a dead writer is a failure, not a hung test.
		client := &http.Client{Timeout: 20 * time.Second}
		deliver := func(i int) (int, map[string]int) {
			body := fmt.Sprintf(`{"events":[{"id":"e%d","action":"push","timestamp":"2026-01-01T00:00:00Z","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","repository":"team/app","tag":"t%d"}}]}`, i, i, i)
			req, _ := http.NewRequest("POST", hs.URL+"/api/v1/webhooks/distribution/"+reg.ID, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer s")
			resp, err := client.Do(req)
			if err != nil {
				return 0, nil
			}
			defer resp.Body.Close()
			var res map[string]int
			json.NewDecoder(resp.Body).Decode(&res)
			return resp.StatusCode, res
		}

		// Batch 1 (delivery 0) blocks in its transaction until deliveries
		// 1-3 wait behind it, then panics; batch 2 (deliveries 1-3) fails
		// with an error; later batches commit.
		release := make(chan struct{})
		var calls atomic.Int32
		server.SetIntakeFault(srv, func() error {
			switch calls.Add(1) {
			case 1:
				<-release
				panic("injected batch panic")
			case 2:
				return errors.New("injected store error")
			}
			return nil
		})
		codes := make([]int, 4)
		var wg sync.WaitGroup
		send := func(i int) {
			wg.Add(1)
			go func() { defer wg.Done(); codes[i], _ = deliver(i) }()
		}
		send(0)
		for calls.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		for i := 1; i <= 3; i++ {
			send(i)
		}
		for server.IntakeQueued(srv) < 3 {
			time.Sleep(5 * time.Millisecond)
		}
		close(release)
		wg.Wait()
		for i, c := range codes {
			if c != 500 {
				t.Errorf("delivery %d of a failed batch: status %d, want 500", i, c)
			}
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("%d batches written, want 2", n)
		}

		// The writer is free again: the registries' retries and new
		// deliveries are stored, none as a duplicate of the failed ones.
		for i := 0; i <= 4; i++ {
			code, res := deliver(i)
			if code != 202 || res["accepted"] != 1 || res["duplicates"] != 0 {
				t.Errorf("delivery %d after the failed batches: status %d %v, want 202 accepted", i, code, res)
			}
		}
		imgs, err := st.Images(ctx, tn.ID, store.ImageFilter{Limit: 100})
		if err != nil || len(imgs.Items) != 5 {
			t.Errorf("%d images stored, want 5 (%v)", len(imgs.Items), err)
		}
	})
}
