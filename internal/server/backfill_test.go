package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
)

// TestStopInterruptsBackfill: a registry that never answers its catalog
// holds a backfill; Stop (the service's shutdown) cancels it instead of
// waiting for it forever, and the registry shows the backfill was
// interrupted.
func TestStopInterruptsBackfill(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		st := openStore(t, backend)
		asked := make(chan struct{}, 1)
		release := make(chan struct{})
		reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case asked <- struct{}{}:
			default:
			}
			select { // hangs until the client gives up (or the test ends)
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer reg.Close()
		defer close(release)
		srv := server.New(server.Options{Store: st})
		hs := httptest.NewServer(srv)
		defer hs.Close()
		admin, _ := st.CreateToken(ctx, "acme", store.ScopeAdmin)
		e := &env{t: t, srv: hs}
		var r store.Registry
		e.do("POST", "/api/v1/registries", admin, map[string]any{"name": "slow", "url": reg.URL}, 201, &r)
		select {
		case <-asked:
		case <-time.After(30 * time.Second):
			t.Fatal("the backfill never reached the registry")
		}
		stopped := make(chan struct{})
		go func() { srv.Stop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			t.Fatal("Stop is still waiting for the backfill of an unresponsive registry")
		}
		e.do("GET", "/api/v1/registries/"+r.ID, admin, nil, 200, &r)
		if r.BackfilledAt == nil || !strings.Contains(r.Error, "interrupted") {
			t.Errorf("registry after an interrupted backfill: %+v", r)
		}
	})
}
