package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

// Findings a CI run publishes for an image only CI knows notify the
// tenant's endpoint (POST /api/v1/notifications) like a scan's: one signed
// findings.new POST with the severities it asked for; the same event sent
// again opens nothing and notifies nobody.
func TestCIPublishNotifiesNewFindings(t *testing.T) {
	got := make(chan jobs.Notification, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if r.Header.Get("X-Vigil-Signature") != jobs.Sign("hmac-key", body) {
			t.Errorf("bad signature %q", r.Header.Get("X-Vigil-Signature"))
		}
		var n jobs.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			t.Errorf("notification: %v: %s", err, body)
		}
		got <- n
	}))
	defer recv.Close()
	e := newEnv(t, "sqlite", feedMirror(t, "v3.10"))
	e.do("POST", "/api/v1/notifications", e.admin, map[string]string{"url": recv.URL, "secret": "hmac-key", "min_severity": "critical"}, 201, nil)
	ingest, _ := e.st.CreateToken(context.Background(), "acme", store.ScopeIngest)
	const digest = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
	event := sdkEnvelope(ingest, scanResultEvent(digest, "3c4f0a62-4d0e-4c35-9f59-8f1f4c1a7d10"))

	e.track([][]byte{event}, true, "", 200)
	select {
	case n := <-got:
		var ids []string
		for _, f := range n.Findings {
			ids = append(ids, f.ID)
		}
		slices.Sort(ids)
		if n.Event != "findings.new" || n.Digest != digest || !slices.Equal(ids, []string{"CVE-2019-20367", "CVE-2021-20231", "CVE-2021-33574"}) {
			t.Errorf("notification %s %s: %v, want the event's three critical ids", n.Event, n.Digest, ids)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no notification of the published critical findings")
	}
	e.track([][]byte{event}, true, "", 200)
	select {
	case n := <-got:
		t.Errorf("notified again of findings already open: %+v", n)
	case <-time.After(2 * time.Second):
	}
}
