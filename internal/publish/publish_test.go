package publish

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDetectTrace(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Trace
	}{
		{"github", map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop",
			"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_WORKFLOW": "build", "GITHUB_SHA": "abc123", "GITHUB_REF": "refs/heads/main",
		}, Trace{Provider: "github-actions", Workflow: "build", RunID: "42", RunAttempt: "2",
			RunURL: "https://github.com/acme/shop/actions/runs/42/attempts/2", Repository: "acme/shop",
			RepositoryURL: "https://github.com/acme/shop", Commit: "abc123", Ref: "refs/heads/main"}},
		{"azure", map[string]string{
			"TF_BUILD": "True", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "My Shop",
			"BUILD_BUILDID": "977", "BUILD_REPOSITORY_URI": "https://dev.azure.com/acme/My%20Shop/_git/shop",
			"BUILD_SOURCEVERSION": "def456", "BUILD_SOURCEBRANCH": "refs/heads/release", "BUILD_DEFINITIONNAME": "shop-ci",
		}, Trace{Provider: "azure-pipelines", Workflow: "shop-ci", RunID: "977",
			RunURL:        "https://dev.azure.com/acme/My%20Shop/_build/results?buildId=977",
			RepositoryURL: "https://dev.azure.com/acme/My%20Shop/_git/shop", Commit: "def456", Ref: "refs/heads/release"}},
		{"gitlab", map[string]string{
			"GITLAB_CI": "true", "CI_PIPELINE_URL": "https://gitlab.com/acme/shop/-/pipelines/7", "CI_PIPELINE_ID": "7",
			"CI_PROJECT_URL": "https://gitlab.com/acme/shop", "CI_PROJECT_PATH": "acme/shop", "CI_COMMIT_SHA": "0ff1ce", "CI_COMMIT_REF_NAME": "main",
		}, Trace{Provider: "gitlab-ci", RunID: "7", RunURL: "https://gitlab.com/acme/shop/-/pipelines/7",
			Repository: "acme/shop", RepositoryURL: "https://gitlab.com/acme/shop", Commit: "0ff1ce", Ref: "main"}},
		{"none", map[string]string{"HOME": "/root"}, Trace{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectTrace(envOf(tt.env)); got != tt.want {
				t.Errorf("DetectTrace =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func testReport() *result.Report {
	return &result.Report{SchemaVersion: result.SchemaVersion, Artifact: inventory.Artifact{Name: "alpine:3.10", Digest: "sha256:aaaa"}}
}

func TestPublishRetriesThenSucceeds(t *testing.T) {
	var calls atomic.Int32
	var got Payload
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		if r.URL.Path != "/api/v1/scans" || r.Header.Get("Authorization") != "Bearer s3cr3t" || r.Header.Get("Content-Type") != MediaType {
			http.Error(w, "bad request shape", http.StatusBadRequest)
			return
		}
		if calls.Add(1) < 3 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("payload: %v", err)
		}
		w.Write([]byte(`{"id":"scan-1","url":"https://vigil.example/scans/scan-1"}`))
	}))
	defer srv.Close()
	c := &Client{Server: srv.URL + "/", Token: "s3cr3t", BaseDelay: time.Millisecond}
	trace := Trace{Provider: "github-actions", RunID: "42"}
	rec, err := c.Publish(context.Background(), NewPayload(testReport(), trace))
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != "scan-1" || calls.Load() != 3 {
		t.Fatalf("receipt %+v after %d calls", rec, calls.Load())
	}
	if got.Version != WireVersion || got.Image.Digest != "sha256:aaaa" || got.Trace.RunID != "42" || got.Report == nil {
		t.Fatalf("payload %+v", got)
	}
	if keys[0] == "" || keys[0] != keys[2] {
		t.Fatalf("idempotency key must be stable across retries: %v", keys)
	}
}

func TestPublishFailures(t *testing.T) {
	var calls atomic.Int32
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte("<html>\x00proxy login</html>"))
	}))
	defer garbage.Close()
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad token", http.StatusForbidden)
	}))
	defer forbidden.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	down.Close() // nothing listens any more

	for _, tc := range []struct {
		name, server string
		wantCalls    int32
	}{
		{"garbage body is not retried", garbage.URL, 1},
		{"4xx is not retried", forbidden.URL, 1},
		{"unreachable is retried", down.URL, 0},
		{"not a URL", "ftp://x", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			c := &Client{Server: tc.server, Attempts: 3, BaseDelay: time.Millisecond}
			_, err := c.Publish(context.Background(), NewPayload(testReport(), Trace{}))
			if !errors.Is(err, ErrPublish) {
				t.Fatalf("want ErrPublish, got %v", err)
			}
			if calls.Load() != tc.wantCalls {
				t.Fatalf("%d calls, want %d", calls.Load(), tc.wantCalls)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"id":"x"}`))
	}))
	defer srv.Close()
	start := time.Now()
	c := &Client{Server: srv.URL, BaseDelay: time.Millisecond}
	if _, err := c.Publish(context.Background(), NewPayload(testReport(), Trace{})); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("Retry-After ignored: retried after %v", d)
	}
}

func TestEndpoint(t *testing.T) {
	for server, want := range map[string]string{
		"https://vigil.example.com":      "https://vigil.example.com/api/v1/scans",
		" http://127.0.0.1:8080/vigil/ ": "http://127.0.0.1:8080/vigil/api/v1/scans",
		"https://vigil.example.com//":    "https://vigil.example.com/api/v1/scans",
		"vigil.example.com":              "",
		"ftp://vigil.example.com":        "",
		"https://":                       "",
		"http://[::1":                    "",
		"":                               "",
	} {
		got, err := Endpoint(server)
		if want == "" {
			if !errors.Is(err, ErrPublish) {
				t.Errorf("Endpoint(%q) = %q, %v; want ErrPublish", server, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", server, got, err, want)
		}
	}
}

// A long server answer is cut on a rune boundary, control bytes blanked.
func TestSnippet(t *testing.T) {
	long := strings.Repeat("a", 199) + "é" + strings.Repeat("b", 50)
	got := snippet([]byte(long))
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || len(got) > 200+len("…") {
		t.Errorf("snippet = %q", got)
	}
	if got := snippet([]byte("a\x00b\nc")); got != "a b c" {
		t.Errorf("snippet = %q", got)
	}
}
