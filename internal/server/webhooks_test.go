package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

// TestConcurrentDeliveriesDedup sends every event three times from
// concurrent senders (the intake commits them in shared batches): each
// event is accepted once, the rest are duplicates, and each digest has one
// pending scan job although two events name it.
func TestConcurrentDeliveriesDedup(t *testing.T) {
	ctx := context.Background()
	keys, err := store.LoadKeyring("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir(), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: &jobs.CurrentDB{}}, jobs.Options{Work: false})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Store: st, Queue: q, IngestRate: 1e9})
	tn, _ := st.EnsureTenant(ctx, "t")
	reg, err := st.CreateRegistry(ctx, tn.ID, store.NewRegistry{Name: "r", URL: "http://127.0.0.1:1", WebhookSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const events, copies = 200, 3
	var mu sync.Mutex
	accepted, dups := 0, 0
	var wg sync.WaitGroup
	for c := 0; c < copies; c++ {
		for i := 0; i < events; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Events 2k and 2k+1 push the same digest under two tags.
				body := fmt.Sprintf(`{"events":[{"id":"e%d","action":"push","timestamp":"2026-01-01T00:00:00Z","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","repository":"team/app","tag":"t%d"}}]}`, i, i/2, i)
				req := httptest.NewRequest("POST", "/api/v1/webhooks/distribution/"+reg.ID, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer s")
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				var res map[string]int
				if rec.Code != 202 || json.Unmarshal(rec.Body.Bytes(), &res) != nil {
					t.Errorf("status %d: %s", rec.Code, rec.Body)
					return
				}
				mu.Lock()
				accepted += res["accepted"]
				dups += res["duplicates"]
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if accepted != events || dups != events*(copies-1) {
		t.Errorf("accepted %d, duplicates %d; want %d, %d", accepted, dups, events, events*(copies-1))
	}
	stats, err := q.Stats(ctx)
	if err != nil || stats.Available != events/2 {
		t.Errorf("%d scan jobs for %d digests (%v)", stats.Available, events/2, err)
	}
}
