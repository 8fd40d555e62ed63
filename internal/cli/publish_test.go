package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/publish"
	"github.com/vigil-scan/vigil/internal/result"
)

// run executes vigil with args and an injected environment.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	io := IO{In: strings.NewReader(stdin), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }}
	code = Main(context.Background(), args, io)
	return code, out.String(), errb.String()
}

func writeReport(t *testing.T) string {
	t.Helper()
	rep := result.Report{SchemaVersion: result.SchemaVersion, Artifact: inventory.Artifact{Name: "alpine:3.10", Digest: "sha256:feed"}}
	b, _ := json.Marshal(rep)
	p := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPublishCommand(t *testing.T) {
	var got publish.Payload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		w.Write([]byte(`{"id":"s1"}`))
	}))
	defer srv.Close()
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "9", "GITHUB_SHA": "abc", "VIGIL_SERVER": srv.URL}
	code, _, stderr := run(t, env, "", "publish", writeReport(t))
	if code != 0 || !strings.Contains(stderr, "published as s1") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if got.Trace.RunURL != "https://github.com/acme/shop/actions/runs/9" || got.Image.Digest != "sha256:feed" {
		t.Fatalf("payload %+v", got)
	}
}

func TestPublishCommandUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	report := writeReport(t)
	code, _, stderr := run(t, nil, "", "publish", report, "--server", url, "--publish-retry-delay", "1ms")
	if code != 0 || !strings.Contains(stderr, "warning") {
		t.Fatalf("unreachable server must only warn: code %d stderr %q", code, stderr)
	}
	code, _, _ = run(t, nil, "", "publish", report, "--server", url, "--fail-on-publish-error", "--publish-retry-delay", "1ms")
	if code != ExitScanFailed {
		t.Fatalf("--fail-on-publish-error: code %d", code)
	}
}

func TestPublishCommandBadReport(t *testing.T) {
	p := filepath.Join(t.TempDir(), "junk.json")
	os.WriteFile(p, []byte(`{"not":"a report"}`), 0o600)
	code, _, stderr := run(t, nil, "", "publish", p, "--server", "http://127.0.0.1:1")
	if code != ExitScanFailed || !strings.Contains(stderr, "not a Vigil JSON report") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

// TestPublishWithoutDigestSaysSo: a report of a root filesystem has no
// image digest; publishing it says it will not show under any image.
func TestPublishWithoutDigestSaysSo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"s2"}`))
	}))
	defer srv.Close()
	rep := result.Report{SchemaVersion: result.SchemaVersion, Artifact: inventory.Artifact{Name: "dir:/srv/rootfs"}}
	b, _ := json.Marshal(rep)
	p := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, map[string]string{"VIGIL_SERVER": srv.URL}, "", "publish", p)
	if code != 0 || !strings.Contains(stderr, "published as s2 (the report names no image digest") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	code, _, stderr = run(t, map[string]string{"VIGIL_SERVER": srv.URL}, "", "publish", writeReport(t))
	if code != 0 || strings.Contains(stderr, "no image digest") {
		t.Fatalf("with a digest: code %d stderr %q", code, stderr)
	}
}
