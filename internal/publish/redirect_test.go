package publish

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// authRecorder answers a publish and remembers the Authorization header of
// each request it saw.
type authRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (a *authRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Header.Get("Authorization"))
	a.mu.Unlock()
	w.Write([]byte(`{"id":"scan-1"}`))
}

// TestTokenStaysWithItsServer: a server redirecting the publish to another
// port of the same host (which net/http alone would hand the token to) or
// to another host gets no Authorization header forwarded; a redirect
// within the same origin keeps it.
func TestTokenStaysWithItsServer(t *testing.T) {
	other := &authRecorder{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	same := &authRecorder{}
	mux := http.NewServeMux()
	mux.Handle("/v2/scans", same)
	target := otherSrv.URL
	mux.HandleFunc("/api/v1/scans", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+"/v2/scans", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := &Client{Server: srv.URL, Token: "s3cr3t", BaseDelay: time.Millisecond, Attempts: 1}
	for name, tt := range map[string]struct {
		target string
		rec    *authRecorder
		want   string
	}{
		"other port":  {otherSrv.URL, other, ""},
		"other host":  {strings.Replace(otherSrv.URL, "127.0.0.1", "localhost", 1), other, ""},
		"same origin": {srv.URL, same, "Bearer s3cr3t"},
	} {
		target = tt.target
		tt.rec.seen = nil
		if _, err := c.Publish(context.Background(), NewPayload(testReport(), Trace{})); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(tt.rec.seen) != 1 || tt.rec.seen[0] != tt.want {
			t.Errorf("%s: redirected request had Authorization %q, want %q", name, tt.rec.seen, tt.want)
		}
	}
}

// TestPublishErrorHidesURLCredentials: a --server with user information
// never shows it in an error.
func TestPublishErrorHidesURLCredentials(t *testing.T) {
	for _, server := range []string{"http://bob:hunter2@127.0.0.1:1/?token=hunter2", "ftp://bob:hunter2@x"} {
		c := &Client{Server: server, BaseDelay: time.Millisecond, Attempts: 1}
		_, err := c.Publish(context.Background(), NewPayload(testReport(), Trace{}))
		if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "bob") {
			t.Errorf("%s: %v", server, err)
		}
	}
}
