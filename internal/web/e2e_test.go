package web_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
)

// TestBrowser runs web/e2e/ui.test.mjs (playwright-core driving Debian's
// chromium) against a real `vigil serve`, seeded only through its API and
// webhooks: a registry that a corpus-based image is pushed to (the server
// pulls and scans it), a CI publish of the same image by `vigil image
// --publish`, and published reports with hostile strings and for another
// tenant. Outside CI it skips when chromium or node_modules are missing;
// under CI=true it fails instead. VIGIL_UPDATE_SCREENSHOTS=1 writes the
// screenshots to docs/screenshots.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short mode")
	}
	root := repoRoot(t)
	e2eDir := filepath.Join(root, "web", "e2e")
	chromium := cmpOr(os.Getenv("CHROMIUM"), "/usr/bin/chromium")
	node, nodeErr := exec.LookPath("node")
	for what, missing := range map[string]bool{
		"chromium (apt-get install chromium)": !exists(chromium),
		"node":                                nodeErr != nil,
		"web/e2e/node_modules (cd web/e2e && npm ci)": !exists(filepath.Join(e2eDir, "node_modules", "playwright-core")),
	} {
		if missing {
			if os.Getenv("CI") == "true" {
				t.Fatalf("browser test needs %s; .ci/run installs it", what)
			}
			t.Skipf("browser test skipped: %s is missing (.ci/run installs it)", what)
		}
	}
	feeds := corpus.Path(t, "feeds")
	bin := buildVigil(t, root)
	work := t.TempDir()

	// A vulnerability DB for the CI-side scan, from the corpus feeds.
	ciDB := filepath.Join(work, "ci", "vigil.db")
	run(t, nil, bin, "db", "import", feeds, "--db", ciDB)

	dataDir := filepath.Join(work, "server")
	adminA := run(t, nil, bin, "token", "create", "--data-dir", dataDir, "--tenant", "acme", "--scope", "admin")
	readA := run(t, nil, bin, "token", "create", "--data-dir", dataDir, "--tenant", "acme", "--scope", "read")
	adminB := run(t, nil, bin, "token", "create", "--data-dir", dataDir, "--tenant", "other", "--scope", "admin")
	base := startServe(t, bin, dataDir, feeds)
	api := &apiClient{t: t, base: base}

	// The registry and the image: the corpus Alpine 3.10 image, plus a
	// Pipfile.lock and a Go binary from the corpus package databases.
	reg := imagetest.Registry(t)
	var created struct {
		ID string `json:"id"`
	}
	api.do("POST", "/api/v1/registries", adminA, map[string]any{
		"name": "main", "url": "http://" + reg, "insecure": true, "webhook_secret": "hook-secret",
	}, http.StatusCreated, &created)
	img := corpusAppImage(t)
	repo, tag := "shop/api", "1.0"
	ref := imagetest.Push(t, img, reg+"/"+repo+":"+tag)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	digest := d.String()
	mt, _ := img.MediaType()
	size, _ := img.Size()
	api.do("POST", "/api/v1/webhooks/distribution/"+created.ID, "hook-secret", pushEvent(reg, repo, tag, digest, string(mt), size), 0, nil)

	// Tenant B has its own registry and image: A must get a 404 for it.
	var createdB struct {
		ID string `json:"id"`
	}
	api.do("POST", "/api/v1/registries", adminB, map[string]any{
		"name": "theirs", "url": "http://" + reg, "insecure": true, "webhook_secret": "hook-secret-b",
	}, http.StatusCreated, &createdB)
	imgB := imagetest.EditConfigFile(t, img, func(cf *v1.ConfigFile) { cf.Config.Labels = map[string]string{"tenant": "b"} })
	imagetest.Push(t, imgB, reg+"/secret/app:1")
	dB, _ := imgB.Digest()
	otherDigest := dB.String()
	api.do("POST", "/api/v1/webhooks/distribution/"+createdB.ID, "hook-secret-b", pushEvent(reg, "secret/app", "1", otherDigest, string(mt), size), 0, nil)

	// The CI run that built the image publishes its scan with `vigil image
	// --publish`, and reports with HTML in package names and advisory text
	// go through the same API; while the service has no POST /api/v1/scans
	// yet, those browser steps are skipped (and say so).
	ciEnv := []string{"GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=acme/shop",
		"GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=1", "GITHUB_WORKFLOW=build-and-scan", "GITHUB_SHA=4f2a9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f607",
		"GITHUB_REF=refs/heads/main"}
	reportPath := filepath.Join(work, "report.json")
	evilDigest := "sha256:" + strings.Repeat("e", 64)
	publishArgs := []string{}
	skipPublish := !api.hasScansEndpoint(adminA)
	if skipPublish {
		t.Log("POST /api/v1/scans is not served yet: the CI-bubble and hostile-report browser steps are skipped")
	} else {
		publishArgs = []string{"--publish", "--server", base, "--token", adminA, "--fail-on-publish-error"}
	}
	runAllowFail(t, ciEnv, bin, append([]string{"image", ref.String(), "--insecure-registry", "--db", ciDB, "--format", "json=" + reportPath}, publishArgs...)...)
	if !skipPublish {
		api.publish(adminA, evilReport(t, readJSON(t, reportPath)), "registry.example.com/evil/app:1", evilDigest)
	}

	vulnID, pkg := api.waitScanned(adminA, digest)

	shots := filepath.Join(work, "screenshots")
	if os.Getenv("VIGIL_UPDATE_SCREENSHOTS") == "1" {
		shots = filepath.Join(root, "docs", "screenshots")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "ui.test.mjs")
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(),
		"VIGIL_URL="+base, "ADMIN_TOKEN="+adminA, "READ_TOKEN="+readA, "CHROMIUM="+chromium,
		"REGISTRY_NAME=main", "REPOSITORY="+repo, "IMAGE_DIGEST="+digest, "CI_WORKFLOW=build-and-scan",
		"VULN_ID="+vulnID, "PACKAGE="+pkg, "EVIL_DIGEST="+evilDigest, "OTHER_DIGEST="+otherDigest,
		"SCREENSHOTS="+shots, fmt.Sprintf("SKIP_PUBLISH=%t", skipPublish))
	out, err := cmd.CombinedOutput()
	t.Logf("browser test:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v", err)
	}
}

// pushEvent is a Distribution registry notification envelope for one
// manifest push, as the registry sends it.
func pushEvent(reg, repo, tag, digest, mediaType string, size int64) map[string]any {
	return map[string]any{"events": []map[string]any{{
		"id": "e2e-" + digest[7:19], "timestamp": time.Now().UTC().Format(time.RFC3339), "action": "push",
		"target": map[string]any{"mediaType": mediaType, "size": size, "digest": digest, "length": size, "repository": repo, "tag": tag,
			"url": "http://" + reg + "/v2/" + repo + "/manifests/" + digest},
		"request": map[string]any{"id": "r1", "addr": "127.0.0.1", "host": reg, "method": "PUT", "useragent": "e2e"},
		"actor":   map[string]any{}, "source": map[string]any{"addr": reg},
	}}}
}

// hasScansEndpoint reports whether the server routes POST /api/v1/scans.
func (a *apiClient) hasScansEndpoint(token string) bool {
	req, _ := http.NewRequest("POST", a.base+"/api/v1/scans", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func buildVigil(t *testing.T, root string) string {
	bin := filepath.Join(t.TempDir(), "vigil")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/vigil")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// run executes the binary and returns its trimmed standard output.
func run(t *testing.T, env []string, bin string, args ...string) string {
	t.Helper()
	out, err := runCmd(env, bin, args...)
	if err != nil {
		t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func runAllowFail(t *testing.T, env []string, bin string, args ...string) {
	t.Helper()
	out, err := runCmd(env, bin, args...)
	// Exit code 1 is a failed gate; anything else is a failure to scan or publish.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func runCmd(env []string, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return strings.TrimSpace(stdout.String()), nil
}

// startServe runs `vigil serve` on a free port and waits until it is ready
// (it builds its vulnerability DB from the corpus feeds first).
func startServe(t *testing.T, bin, dataDir, feeds string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dataDir)
	cmd.Env = append(os.Environ(), "VIGIL_FEEDS_MIRROR="+feeds)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("vigil serve log (tail):\n%s", tail(string(b), 4000))
		}
		logf.Close()
	})
	base := "http://" + addr
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("vigil serve did not become ready in 4 minutes")
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// corpusAppImage is the corpus Alpine 3.10 image with two own layers: a
// Pipfile.lock and a Go binary, both from the corpus package databases.
func corpusAppImage(t *testing.T) v1.Image {
	gz := corpus.Path(t, "images", "alpine-310.tar.gz")
	tarPath := filepath.Join(t.TempDir(), "alpine.tar")
	imagetest.Gunzip(t, gz, tarPath)
	base, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(corpus.Path(t, "pkgdb", "python", "trivy-pipenv", "Pipfile.lock"))
	if err != nil {
		t.Fatal(err)
	}
	gobin, err := os.ReadFile(corpus.Path(t, "pkgdb", "go-binary", "trivy-test.elf"))
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	return imagetest.Build(t, base, nil,
		imagetest.Step{CreatedBy: "COPY Pipfile.lock /app/Pipfile.lock # buildkit", Created: when,
			Entries: []imagetest.Entry{{Name: "app", Typeflag: tar.TypeDir}, {Name: "app/Pipfile.lock", Mode: 0o644, Body: string(lock)}}},
		imagetest.Step{CreatedBy: "COPY /out/api /usr/local/bin/api # buildkit", Created: when,
			Entries: []imagetest.Entry{{Name: "usr/local/bin", Typeflag: tar.TypeDir}, {Name: "usr/local/bin/api", Mode: 0o755, Body: string(gobin)}}},
	)
}

func readJSON(t *testing.T, p string) map[string]any {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// evilReport is a copy of a real report whose first two findings carry HTML
// in the package name and the advisory text: the one edge case the corpus
// has no data for.
func evilReport(t *testing.T, r map[string]any) map[string]any {
	b, _ := json.Marshal(r)
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	vulns, _ := c["vulnerabilities"].([]any)
	if len(vulns) < 2 {
		t.Fatalf("the corpus image has %d findings; want at least 2", len(vulns))
	}
	for _, v := range vulns[:2] {
		f := v.(map[string]any)
		f["package"].(map[string]any)["name"] = `<script>alert("pkg")</script>`
		f["description"] = `<img src=x onerror=alert("advisory")> advisory text`
		f["title"] = `<b>bold</b> title`
	}
	return c
}

type apiClient struct {
	t    *testing.T
	base string
}

// do sends a JSON request; want 0 accepts any 2xx.
func (a *apiClient) do(method, path, token string, body any, want int, out any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if (want != 0 && resp.StatusCode != want) || (want == 0 && resp.StatusCode/100 != 2) {
		a.t.Fatalf("%s %s = %d: %s", method, path, resp.StatusCode, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// publish posts a report as a CI scan (docs/publish.md).
func (a *apiClient) publish(token string, report map[string]any, name, digest string) {
	a.t.Helper()
	body := map[string]any{
		"version": "1",
		"image":   map[string]any{"name": name, "digest": digest},
		"trace":   map[string]any{"provider": "github-actions", "workflow": "nightly", "run_id": "7", "run_url": "https://github.com/acme/app/actions/runs/7", "repository": "acme/app", "commit": "abc", "ref": "refs/heads/main"},
		"report":  report,
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", a.base+"/api/v1/scans", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/vnd.vigil.scan.v1+json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", fmt.Sprintf("%x", digest))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		rb, _ := io.ReadAll(resp.Body)
		a.t.Fatalf("POST /api/v1/scans = %d: %s", resp.StatusCode, rb)
	}
}

// waitScanned waits until the server has scanned the pushed image and
// returns one HIGH finding's id and package, for the browser to look for.
func (a *apiClient) waitScanned(token, digest string) (string, string) {
	a.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		var page struct {
			Items []struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			} `json:"items"`
		}
		a.do("GET", "/api/v1/images?registry_id=&repository=shop/api", token, nil, 200, &page)
		if len(page.Items) > 0 && page.Items[0].Status == "scanned" {
			var fs struct {
				Items []struct {
					ID       string `json:"id"`
					Severity string `json:"severity"`
					Package  struct {
						Name string `json:"name"`
					} `json:"package"`
				} `json:"items"`
			}
			a.do("GET", "/api/v1/images/"+digest+"/findings?severity=high&limit=500", token, nil, 200, &fs)
			for _, f := range fs.Items {
				if f.Severity == "HIGH" {
					return f.ID, f.Package.Name
				}
			}
			a.t.Fatalf("the scanned image has no HIGH finding: %+v", fs.Items)
		}
		if len(page.Items) > 0 && page.Items[0].Status == "failed" {
			a.t.Fatalf("the server failed to scan the image: %s", page.Items[0].Error)
		}
		time.Sleep(500 * time.Millisecond)
	}
	a.t.Fatal("the pushed image was not scanned in 3 minutes")
	return "", ""
}
