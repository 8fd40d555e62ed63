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
