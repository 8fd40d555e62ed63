package jobs

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// New high findings reach the tenant's endpoint signed with HMAC-SHA256,
// and a failed delivery is retried.
func TestNotifySignedAndRetried(t *testing.T) {
	ctx := context.Background()
	keys, _ := store.LoadKeyring("", t.TempDir())
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir(), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var calls atomic.Int64
	got := make(chan []byte, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(503) // the first delivery fails
			return
		}
		if r.Header.Get("X-Vigil-Signature") != Sign("hmac-key", body) {
			t.Errorf("bad signature %q", r.Header.Get("X-Vigil-Signature"))
		}
		got <- body
	}))
	defer recv.Close()
	tn, _ := st.EnsureTenant(ctx, "acme")
	if _, err := st.CreateOutboundWebhook(ctx, tn.ID, recv.URL, "hmac-key", "high"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOutboundWebhook(ctx, tn.ID, "ftp://x", "k", "high"); err == nil {
		t.Error("ftp URL accepted")
	}
	res, err := st.RecordEvents(ctx, []store.ImageEvent{{TenantID: tn.ID, RegistryID: "reg_x", Repository: "app", Digest: "sha256:" + strings.Repeat("0", 63) + "1", Action: store.ActionPush}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := New(ctx, Deps{Store: st, DB: &CurrentDB{}}, Options{Work: true, PollInterval: 20 * time.Millisecond, RetryBase: 50 * time.Millisecond, Daily: -1, Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	opened := []vuln.Finding{
		{ID: "CVE-2099-0001", Severity: vuln.SeverityHigh, Package: vuln.PackageRef{Name: "openssl"}},
		{ID: "CVE-2099-0002", Severity: vuln.SeverityLow, Package: vuln.PackageRef{Name: "zlib"}},
	}
	// Recording an evaluation (what scans and re-evaluations do) notifies
	// of the findings it opened.
	ev := store.Evaluation{ImageID: res[0].ImageID, Kind: "scan", Findings: opened}
	if err := q.apply(ctx, []store.Evaluation{ev}); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-got:
		if !strings.Contains(string(body), "CVE-2099-0001") || strings.Contains(string(body), "CVE-2099-0002") {
			t.Errorf("notification: %s", body)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no delivery after %d attempts", calls.Load())
	}
	// The same findings again open nothing: no second notification.
	if err := q.apply(ctx, []store.Evaluation{ev}); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-got:
		t.Errorf("notified again of findings already open: %s", body)
	case <-time.After(2 * time.Second):
	}
}
