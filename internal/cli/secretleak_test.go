package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
)

// assertNoPlanted fails when text holds any planted secret in clear.
func assertNoPlanted(t *testing.T, what, text string, planted []imagetest.PlantedSecret) {
	t.Helper()
	for _, p := range planted {
		if strings.Contains(text, p.Clear) {
			t.Errorf("%s prints the %s secret in clear", what, p.Field)
		}
	}
}

// A secret in any field of the image config must not appear in any format
// of any command (issue 8 item 4): every output and every log line is
// checked for every planted secret.
func TestNoConfigSecretInAnyOutput(t *testing.T) {
	img, planted := imagetest.SecretConfigImage(t)
	ref := imagetest.WriteDockerArchive(t, img, "acme/app:1.0")
	dir := t.TempDir()
	env := map[string]string{"VIGIL_DB": filepath.Join(dir, "vigil.db"), "VIGIL_CACHE_DIR": dir}
	if code, _, stderr := run(t, env, "", "db", "import", corpus.Path(t, "feeds")); code != 0 { // a scan refuses a DB missing configured feeds
		t.Fatalf("db import: %d %s", code, stderr)
	}

	var (
		mu       sync.Mutex
		payloads [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		payloads = append(payloads, b)
		mu.Unlock()
		w.Write([]byte(`{"id":"s1"}`))
	}))
	defer srv.Close()

	type tc struct {
		name string
		args []string
	}
	var cases []tc
	for _, f := range sbomFormats {
		cases = append(cases, tc{"sbom/" + f, []string{"sbom", ref, "--format", f}})
	}
	for _, f := range report.Formats() {
		cases = append(cases, tc{"image/" + f, []string{"image", ref, "--format", f}})
		cases = append(cases, tc{"lint/" + f, []string{"lint", ref, "--format", f}})
	}
	cases = append(cases, tc{"image/publish", []string{"image", ref, "--format", "json", "--publish", "--server", srv.URL}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := run(t, env, "", c.args...)
			if code == ExitScanFailed || stdout == "" {
				t.Fatalf("exit %d, stdout %d bytes, stderr %s", code, len(stdout), stderr)
			}
			assertNoPlanted(t, "stdout", stdout, planted)
			assertNoPlanted(t, "stderr", stderr, planted)
		})
	}
	if len(payloads) != 1 {
		t.Fatalf("%d publish payloads, want 1", len(payloads))
	}
	assertNoPlanted(t, "publish payload", string(payloads[0]), planted)

	// The secrets are masked, not lost: the scan reports one in each field.
	_, stdout, _ := run(t, env, "", "image", ref, "--format", "json")
	var r result.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, s := range r.Secrets {
		paths[s.Path] = true
	}
	for _, p := range []string{secrets.PathEnv, secrets.PathLabels, secrets.PathCmd, secrets.PathEntrypoint,
		secrets.PathHealthcheck, secrets.PathOnBuild, secrets.PathHistory} {
		if !paths[p] {
			t.Errorf("no secret reported in %s; secrets: %+v", p, r.Secrets)
		}
	}
	// What is not secret stays readable.
	if c := r.Artifact.Config; c == nil || c.Env[0] != "PATH=/usr/bin:/bin" || c.Labels["org.opencontainers.image.title"] != "app" || c.Cmd[0] != "--aws-key" {
		t.Errorf("config mangled: %+v", r.Artifact.Config)
	}
}

// writeClearReport writes a report as another tool or an older Vigil may
// have: the SecretConfigImage config in clear.
func writeClearReport(t *testing.T) (string, []imagetest.PlantedSecret) {
	img, planted := imagetest.SecretConfigImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	var history []map[string]any
	for _, h := range cf.History {
		history = append(history, map[string]any{"created_by": h.CreatedBy, "comment": h.Comment})
	}
	clear := map[string]any{
		"schema_version": result.SchemaVersion,
		"tool":           map[string]any{"name": "vigil", "version": "0.1.0"},
		"artifact": map[string]any{
			"name": "acme/app:1.0",
			"config": map[string]any{"env": c.Env, "labels": c.Labels, "cmd": c.Cmd, "entrypoint": c.Entrypoint,
				"healthcheck": c.Healthcheck.Test, "onbuild": c.OnBuild, "history": history},
			"layers": []map[string]any{{"index": 0, "diff_id": "sha256:1", "created_by": cf.History[1].CreatedBy}},
		},
		"packages": []map[string]any{{"name": "musl", "version": "1", "type": "apk",
			"layer": map[string]any{"index": 0, "diff_id": "sha256:1", "created_by": cf.History[1].CreatedBy}}},
		"vulnerabilities": []any{},
	}
	b, _ := json.Marshal(clear)
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, planted
}

// A report file written by another tool or an older version may hold the
// config in clear; `vigil publish` masks it before it leaves the machine.
func TestPublishMasksClearReport(t *testing.T) {
	path, planted := writeClearReport(t)
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.Write([]byte(`{"id":"s1"}`))
	}))
	defer srv.Close()
	code, _, stderr := run(t, map[string]string{"VIGIL_SERVER": srv.URL}, "", "publish", path)
	if code != 0 || len(got) == 0 {
		t.Fatalf("publish: %d %s", code, stderr)
	}
	if !bytes.Contains(got, []byte("acme/app:1.0")) {
		t.Fatalf("payload %s", got)
	}
	assertNoPlanted(t, "publish payload", string(got), planted)
}

// `vigil convert` masks such a report too, in every format (json printed
// the clear config back).
func TestConvertMasksClearReport(t *testing.T) {
	path, planted := writeClearReport(t)
	for _, f := range report.Formats() {
		code, stdout, stderr := run(t, nil, "", "convert", path, "--format", f)
		if code != 0 || stdout == "" {
			t.Fatalf("convert --format %s: %d %s", f, code, stderr)
		}
		assertNoPlanted(t, "convert --format "+f, stdout+stderr, planted)
	}
}

// An image reference typed as a URL with credentials is refused without
// printing them, in the error and in debug logs (they were in both).
func TestImageRefCredentialsNotPrinted(t *testing.T) {
	env := map[string]string{"VIGIL_DB": filepath.Join(t.TempDir(), "vigil.db"), "VIGIL_CACHE_DIR": t.TempDir()}
	ref := "https://bob:HUNTER2@127.0.0.1:1/repo:tag"
	for _, args := range [][]string{{"sbom", ref}, {"lint", ref}} {
		code, stdout, stderr := run(t, env, "", append(args, "--log-level", "debug")...)
		if code != ExitScanFailed || !strings.Contains(stderr, "127.0.0.1:1/repo:tag") {
			t.Fatalf("%v: exit %d, stderr %s", args, code, stderr)
		}
		if strings.Contains(stdout+stderr, "HUNTER2") {
			t.Errorf("%v prints the credentials: %s", args, stderr)
		}
	}
}

// Credentials in a DB source (`--from`, `--db-repository` oci:// or
// https://) are not printed: the registry parser quoted the reference
// without its scheme, and the first-run notice printed it whole.
func TestDBSourceCredentialsNotPrinted(t *testing.T) {
	img, _ := imagetest.SecretConfigImage(t)
	ref := imagetest.WriteDockerArchive(t, img, "acme/app:1.0")
	env := map[string]string{"VIGIL_DB": filepath.Join(t.TempDir(), "vigil.db"), "VIGIL_CACHE_DIR": t.TempDir()}
	for _, args := range [][]string{
		{"db", "update", "--from", "oci://bob:HUNTER2@127.0.0.1:1/repo:tag"},
		{"image", ref, "--db-repository", "oci://bob:HUNTER2@127.0.0.1:1/repo:tag"},
		{"image", ref, "--db-repository", "https://bob:HUNTER2@127.0.0.1:1/"},
	} {
		code, stdout, stderr := run(t, env, "", append(args, "--log-level", "debug")...)
		if code != ExitScanFailed || !strings.Contains(stderr, "127.0.0.1:1") {
			t.Fatalf("%v: exit %d, stderr %s", args, code, stderr)
		}
		if strings.Contains(stdout+stderr, "HUNTER2") {
			t.Errorf("%v prints the credentials: %s", args, stderr)
		}
	}
}
