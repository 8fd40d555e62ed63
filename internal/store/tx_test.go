package store

import (
	"context"
	"testing"
	"time"
)

// TestTxPanicRollsBack panics inside a write transaction whose context
// never ends: the transaction is rolled back, so the next write gets the
// writer (on SQLite the one writer connection) instead of waiting forever.
func TestTxPanicRollsBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		func() {
			defer func() {
				if p := recover(); p != "injected" {
					t.Fatalf("recovered %v, want the injected panic", p)
				}
			}()
			st.RecordEventBatch(context.Background(), nil, func(*Tx, [][]EventResult) error { panic("injected") })
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, _, err := st.RecordEventBatch(ctx, nil, nil); err != nil {
			t.Fatalf("write after a panicked transaction: %v", err)
		}
	})
}

// TestHarborRegistry: a Harbor scan's registry is the tenant's registry
// with that host, else one created once (concurrent scans share it), also
// when a registry of another host already has the name.
func TestHarborRegistry(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		tn, _ := st.EnsureTenant(ctx, "t")
		other, _ := st.EnsureTenant(ctx, "o")
		known, err := st.CreateRegistry(ctx, tn.ID, NewRegistry{Name: "main", URL: "https://harbor.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := st.HarborRegistry(ctx, tn.ID, "https://harbor.example.com/"); err != nil || id != known.ID {
			t.Errorf("registry with the host: %q %v, want %s", id, err, known.ID)
		}
		if _, err := st.CreateRegistry(ctx, tn.ID, NewRegistry{Name: "harbor harbor-core:8080", URL: "https://elsewhere"}); err != nil {
			t.Fatal(err)
		}
		ids := make([]string, 4)
		errs := make(chan error, len(ids))
		for i := range ids {
			go func() {
				var err error
				ids[i], err = st.HarborRegistry(ctx, tn.ID, "http://harbor-core:8080")
				errs <- err
			}()
		}
		for range ids {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Fatalf("concurrent scans made several registries: %v", ids)
			}
		}
		r, err := st.Registry(ctx, tn.ID, ids[0])
		if err != nil || r.Host != "harbor-core:8080" || !r.Insecure || r.HasPassword || r.HasWebhookSecret {
			t.Errorf("created registry: %+v %v", r, err)
		}
		if id, err := st.HarborRegistry(ctx, other.ID, "http://harbor-core:8080"); err != nil || id == ids[0] {
			t.Errorf("another tenant got the registry: %q %v", id, err)
		}
	})
}
