package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
)

// countingBody is a request body that records how much of it is read:
// prefix, then n spaces (valid JSON whitespace, so a decoder reads on).
type countingBody struct {
	prefix []byte
	n      int
	read   int
}

func (b *countingBody) Read(p []byte) (int, error) {
	if len(b.prefix) > 0 {
		k := copy(p, b.prefix)
		b.prefix = b.prefix[k:]
		b.read += k
		return k, nil
	}
	if b.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), b.n)
	for i := range p[:k] {
		p[i] = ' '
	}
	b.n -= k
	b.read += k
	return k, nil
}

// TestIngestRefusedBeforeBodyIsRead: every ingestion route authenticates
// and applies the rate limit before it reads the body, so a flood of large
// bodies from a rate-limited or unknown caller costs a header check (the
// Azure route, whose token is inside the body, reads its first item only).
func TestIngestRefusedBeforeBodyIsRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		st := openStore(t, backend)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		// Rate 1/s, burst 2, and a clock that does not move: two requests
		// empty a bucket for good.
		srv := server.New(server.Options{Store: st, IngestRate: 1, Now: func() time.Time { return now }})
		ingest, err := st.CreateToken(ctx, "acme", store.ScopeIngest)
		if err != nil {
			t.Fatal(err)
		}
		tn, _ := st.EnsureTenant(ctx, "acme")
		reg, err := st.CreateRegistry(ctx, tn.ID, store.NewRegistry{Name: "r", URL: "http://127.0.0.1:1", WebhookSecret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		const flood = 8 << 20
		heartbeat := func(ikey string) []byte {
			return []byte(`{"name":"Microsoft.ApplicationInsights.Metric","time":"2026-01-01T00:00:00Z","data":{"baseType":"MetricData","baseData":{"metrics":[]}},"iKey":"` + ikey + `"}` + "\n")
		}
		send := func(path, token string, body *countingBody, gz bool) int {
			req := httptest.NewRequest("POST", path, body)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			req.Header.Set("Content-Type", "application/json")
			if gz {
				req.Header.Set("Content-Encoding", "gzip")
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			return rec.Code
		}
		type route struct {
			name, path string
			azure      bool // the token is the first item's iKey, not a header
		}
		routes := []route{
			{"publish", "/api/v1/scans", false},
			{"harbor", "/harbor/api/v1/scan", false},
			{"running", "/api/v1/clusters/c1/running", false},
			{"webhook", "/api/v1/webhooks/distribution/" + reg.ID, false},
			{"azure", "/api/v1/ingest/azure/v2.1/track", true},
		}
		// check sends a flood body with token and wants status, the body
		// unread (Azure: read no further than its first item).
		check := func(rt route, token string, want int) {
			t.Helper()
			b := &countingBody{n: flood}
			limit := 0
			if rt.azure {
				b.prefix = heartbeat(token)
				token, limit = "", 64<<10
			}
			if code := send(rt.path, token, b, false); code != want {
				t.Errorf("%s: status %d, want %d", rt.name, code, want)
			}
			if b.read > limit {
				t.Errorf("%s: %d bytes of the body read before %d, want at most %d", rt.name, b.read, want, limit)
			}
		}
		for _, rt := range routes {
			check(rt, "vgl_unknown", 401)
		}
		// Empty the tenant's ingest bucket and the registry's webhook bucket
		// (whatever these requests answer, they are counted).
		for range 2 {
			send("/api/v1/scans", ingest, &countingBody{}, false)
			send("/api/v1/webhooks/distribution/"+reg.ID, "s", &countingBody{}, false)
		}
		for _, rt := range routes {
			token := ingest
			if rt.name == "webhook" {
				token = "s"
			}
			check(rt, token, 429)
		}
		// A first item too large to find its key in is refused unread
		// beyond the bound.
		big := &countingBody{prefix: []byte(`{"data":"` + strings.Repeat("x", 2<<20) + `","iKey":"` + ingest + `"}`)}
		if code := send("/api/v1/ingest/azure/v2.1/track", "", big, false); code != 413 || big.read > 2<<20 {
			t.Errorf("azure, first item over 1 MiB: status %d after %d bytes, want 413", code, big.read)
		}
		// The SDK's gzip bodies too.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(heartbeat(ingest))
		zw.Write(bytes.Repeat([]byte(" "), 1<<20))
		zw.Close()
		if code := send("/api/v1/ingest/azure/v2.1/track", "", &countingBody{prefix: gz.Bytes()}, true); code != 429 {
			t.Errorf("azure, gzip: status %d, want 429", code)
		}
	})
}
