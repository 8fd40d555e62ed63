package integration

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/imagetest"
)

// repoRoot is the repository, two directories up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// publishServer records what `vigil publish` sends.
type publishServer struct {
	*httptest.Server
	mu       sync.Mutex
	payloads []map[string]any
	auth     []string
}

func newPublishServer(t *testing.T) *publishServer {
	ps := &publishServer{}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/scans" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var p map[string]any
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ps.mu.Lock()
		ps.payloads = append(ps.payloads, p)
		ps.auth = append(ps.auth, r.Header.Get("Authorization"))
		ps.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"id": "scan-1", "url": ps.URL + "/scans/scan-1"})
	}))
	t.Cleanup(ps.Close)
	return ps
}

// The GitHub Action's entry script, run as the composite action runs it:
// inputs as INPUT_*, the runner's files, the workflow's environment.
func TestGitHubActionEntrypoint(t *testing.T) {
	setup(t)
	dir := t.TempDir()
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	server := newPublishServer(t)
	outputs := filepath.Join(dir, "github_output")
	summary := filepath.Join(dir, "step_summary.md")
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "ci", "github", "entrypoint.sh"))
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"VIGIL_BIN=" + binPath, "VIGIL_DB=" + dbPath, "VIGIL_CACHE_DIR=" + filepath.Join(workDir, "cache"),
		"VIGIL_SKIP_DB_UPDATE=true",
		"INPUT_IMAGE_NAME=" + ref, "INPUT_SEVERITY_THRESHOLD=HIGH", "INPUT_RUN_QUALITY_CHECKS=true",
		"INPUT_SARIF_FILE=vigil.sarif", "INPUT_EXIT_CODE=1",
		"RUNNER_TEMP=" + dir, "GITHUB_OUTPUT=" + outputs, "GITHUB_STEP_SUMMARY=" + summary,
		"GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=shop/api",
		"GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=2", "GITHUB_WORKFLOW=build", "GITHUB_SHA=0123456789abcdef0123456789abcdef01234567",
		"GITHUB_REF=refs/heads/main",
		"VIGIL_SERVER=" + server.URL, "VIGIL_TOKEN=t0ken",
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(string(out), "::error::") {
		t.Fatalf("want exit 1 with an ::error:: annotation (HIGH urllib3/idna CVEs), got %d:\n%s", code, out)
	}
	got, _ := os.ReadFile(outputs)
	for _, key := range []string{"scan-report-path=", "sarif-path=", "vigil-report-path="} {
		m := regexp.MustCompile(`(?m)^` + key + `(.+)$`).FindStringSubmatch(string(got))
		if m == nil {
			t.Errorf("GITHUB_OUTPUT lacks %s:\n%s", key, got)
			continue
		}
		p := m[1]
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("output %s%s: %v", key, m[1], err)
		}
	}
	if b, _ := os.ReadFile(summary); !strings.Contains(string(b), "stdlib") {
		t.Errorf("step summary lacks the findings:\n%s", b)
	}
	var scanreport map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "vigil-4242", "scanreport.json"))
	if err := json.Unmarshal(b, &scanreport); err != nil || scanreport["vulnerabilities"] == nil {
		t.Errorf("container-scan report: %v %v", err, keys(scanreport))
	}
	server.mu.Lock()
	defer server.mu.Unlock()
	if len(server.payloads) != 1 {
		t.Fatalf("published %d times, want 1", len(server.payloads))
	}
	trace, _ := server.payloads[0]["trace"].(map[string]any)
	if trace["provider"] != "github-actions" || trace["run_url"] != "https://github.com/shop/api/actions/runs/4242/attempts/2" ||
		trace["commit"] != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("trace = %v", trace)
	}
	if server.auth[0] != "Bearer t0ken" {
		t.Errorf("authorization = %q", server.auth[0])
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// templateScript extracts a bash step's script from a CI YAML template.
func loadYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The Azure Pipelines template's scan step, with the agent's macro
// variables substituted as the agent does, then its JUnit output as
// PublishTestResults@2 reads it.
func TestAzurePipelinesTemplate(t *testing.T) {
	setup(t)
	var tpl struct {
		Steps []struct {
			Bash        string            `yaml:"bash"`
			DisplayName string            `yaml:"displayName"`
			Env         map[string]string `yaml:"env"`
		} `yaml:"steps"`
	}
	loadYAML(t, filepath.Join(repoRoot(t), "ci", "azure-pipelines", "vigil.yml"), &tpl)
	script := ""
	for _, s := range tpl.Steps {
		if strings.HasPrefix(s.DisplayName, "Vigil scan") {
			script = s.Bash
		}
	}
	if script == "" {
		t.Fatal("no scan step in the template")
	}
	dir := t.TempDir()
	agentTemp := filepath.Join(dir, "_temp")
	os.MkdirAll(agentTemp, 0o755)
	script = strings.ReplaceAll(script, "$(Agent.TempDirectory)", agentTemp)
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + filepath.Dir(binPath) + ":" + os.Getenv("PATH"), "HOME=" + dir,
		"VIGIL_DB=" + dbPath, "VIGIL_CACHE_DIR=" + filepath.Join(workDir, "cache"), "VIGIL_SKIP_DB_UPDATE=true",
		"VIGIL_IMAGE=" + ref, "VIGIL_SEVERITY=HIGH", "VIGIL_CHECKS=True", "VIGIL_IGNORE_UNFIXED=False",
		"VIGIL_DB_URL=", "VIGIL_SERVER=", "TF_BUILD=True", "BUILD_BUILDID=77",
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the scan step must not fail itself (the gate step does): %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "##vso[task.setvariable variable=VIGIL_EXIT_CODE]1") {
		t.Errorf("step did not record exit code 1:\n%s", out)
	}
	var suites struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	b, err := os.ReadFile(filepath.Join(agentTemp, "vigil", "vigil-junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("junit: %v", err)
	}
	failures := 0
	for _, s := range suites.Suites {
		failures += s.Failures
	}
	if failures == 0 {
		t.Errorf("junit has no failures:\n%.2000s", b)
	}
}

// The GitLab template's script lines, run in order as the runner does.
func TestGitLabTemplate(t *testing.T) {
	setup(t)
	var tpl map[string]struct {
		Script []string `yaml:"script"`
	}
	loadYAML(t, filepath.Join(repoRoot(t), "ci", "gitlab", "vigil.gitlab-ci.yml"), &tpl)
	job, ok := tpl["vigil"]
	if !ok || len(job.Script) == 0 {
		t.Fatal("no vigil job script")
	}
	dir := t.TempDir()
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	cmd := exec.Command("bash", "-e", "-c", strings.Join(job.Script, "\n"))
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + filepath.Dir(binPath) + ":" + os.Getenv("PATH"), "HOME=" + dir,
		"VIGIL_DB=" + dbPath, "VIGIL_CACHE_DIR=" + filepath.Join(workDir, "cache"), "VIGIL_SKIP_DB_UPDATE=true",
		"VIGIL_IMAGE=" + ref, "VIGIL_SEVERITY_THRESHOLD=HIGH", "GITLAB_CI=true",
		"CI_PIPELINE_URL=https://gitlab.example.com/shop/api/-/pipelines/9",
	}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("want the job to fail with exit 1 on HIGH findings, got %v:\n%s", err, out)
	}
	var rep struct {
		Version string `json:"version"`
		Scan    struct {
			Type string `json:"type"`
		} `json:"scan"`
		Vulnerabilities []map[string]any `json:"vulnerabilities"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "gl-container-scanning-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Scan.Type != "container_scanning" || len(rep.Vulnerabilities) == 0 {
		t.Errorf("gitlab report: version %s type %s, %d vulnerabilities", rep.Version, rep.Scan.Type, len(rep.Vulnerabilities))
	}
	if _, err := os.Stat(filepath.Join(dir, "vigil-junit.xml")); err != nil {
		t.Error(err)
	}
}
