package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
)

// releaseServer serves the binary under test as a Vigil release would be
// laid out on GitHub: BASE/download/TAG/ASSET and BASE/latest/download/ASSET.
// checksums maps an asset to the digest checksums.txt claims for it
// (the real one when absent).
func releaseServer(t *testing.T, tag string, checksums map[string]string) *httptest.Server {
	t.Helper()
	bin, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "vigil", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg})
	tw.Write(bin)
	tw.Close()
	gz.Close()
	asset := "vigil_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz"
	sum := sha256.Sum256(buf.Bytes())
	digest := hex.EncodeToString(sum[:])
	if d, ok := checksums[asset]; ok {
		digest = d
	}
	files := map[string][]byte{
		asset:           buf.Bytes(),
		"checksums.txt": []byte(digest + "  " + asset + "\n" + strings.Repeat("0", 64) + "  vigil_plan9_mips.tar.gz\n"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, prefix := range []string{"/download/" + tag + "/", "/latest/download/"} {
			if name, ok := strings.CutPrefix(r.URL.Path, prefix); ok {
				if b, ok := files[name]; ok {
					w.Write(b)
					return
				}
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runInstall(t *testing.T, env ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "ci", "github", "install.sh"))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "RUNNER_TEMP=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String()), errb.String(), code
}

// The action installs a released binary, checksum-verified, from a
// download base that stands in for GitHub's releases.
func TestGitHubActionInstall(t *testing.T) {
	setup(t)
	srv := releaseServer(t, "v9.9.9", nil)
	for _, version := range []string{"v9.9.9", "latest", ""} {
		dir := t.TempDir()
		bin, stderr, code := runInstall(t, "VIGIL_DOWNLOAD_BASE="+srv.URL+"/", "VIGIL_VERSION="+version, "VIGIL_INSTALL_DIR="+dir)
		if code != 0 || bin != filepath.Join(dir, "vigil") {
			t.Fatalf("%q: exit %d, out %q, stderr %s", version, code, bin, stderr)
		}
		if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil || len(out) == 0 {
			t.Fatalf("installed binary: %v %s", err, out)
		}
	}

	bad := releaseServer(t, "v9.9.9", map[string]string{"vigil_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz": strings.Repeat("ab", 32)})
	for _, tc := range []struct {
		name, want string
		env        []string
	}{
		{"tampered asset", "does not match checksums.txt", []string{"VIGIL_DOWNLOAD_BASE=" + bad.URL, "VIGIL_VERSION=v9.9.9"}},
		{"unknown release", "downloading", []string{"VIGIL_DOWNLOAD_BASE=" + srv.URL, "VIGIL_VERSION=v0.0.1"}},
		{"not a tag", "not a release tag", []string{"VIGIL_DOWNLOAD_BASE=" + srv.URL, "VIGIL_VERSION=../../etc"}},
		{"unsupported arch", "unsupported architecture", []string{"VIGIL_DOWNLOAD_BASE=" + srv.URL, "RUNNER_ARCH=s390x"}},
		{"unreachable", "downloading", []string{"VIGIL_DOWNLOAD_BASE=http://127.0.0.1:1"}},
	} {
		dir := t.TempDir()
		out, stderr, code := runInstall(t, append(tc.env, "VIGIL_INSTALL_DIR="+dir)...)
		if code != 2 || !strings.Contains(stderr, "::error::") || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, out %q, stderr %s", tc.name, code, out, stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: installed %v anyway", tc.name, entries)
		}
	}
}

// action.yml keeps Azure/container-scan's input names, does not give
// `token` another meaning, installs a release instead of compiling, and
// caches the DB.
func TestGitHubActionDefinition(t *testing.T) {
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	loadYAML(t, filepath.Join(repoRoot(t), "action.yml"), &action)
	for _, in := range []string{"image-name", "severity-threshold", "run-quality-checks", "username", "password", "timeout", "token", "vigil-token", "vigil-version", "vigil-download-base"} {
		if _, ok := action.Inputs[in]; !ok {
			t.Errorf("input %s missing", in)
		}
	}
	cached := false
	for _, s := range action.Runs.Steps {
		if strings.Contains(s.Uses, "setup-go") || strings.Contains(s.Run, "go build") {
			t.Errorf("the action compiles Vigil: %+v", s)
		}
		if strings.HasPrefix(s.Uses, "actions/cache@") {
			cached = true
		}
		if v, ok := s.Env["VIGIL_TOKEN"]; ok && v != "${{ inputs.vigil-token }}" {
			t.Errorf("VIGIL_TOKEN = %s, want the vigil-token input", v)
		}
	}
	if !cached {
		t.Error("no actions/cache step for the DB")
	}
}

// Azure/container-scan's timeout input: a scan that does not finish in time
// is an error (exit 2), not a pass.
func TestGitHubActionEntrypointTimeout(t *testing.T) {
	setup(t)
	dir := t.TempDir()
	ref := imagetestArchive(t)
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "ci", "github", "entrypoint.sh"))
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"VIGIL_BIN=" + binPath, "VIGIL_DB=" + dbPath, "VIGIL_CACHE_DIR=" + t.TempDir(),
		"VIGIL_SKIP_DB_UPDATE=true", "INPUT_IMAGE_NAME=" + ref, "INPUT_TIMEOUT=0.001", "RUNNER_TEMP=" + dir,
	}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "did not finish within 0.001") {
		t.Fatalf("want exit 2 on timeout, got %v:\n%s", err, out)
	}
}

func imagetestArchive(t *testing.T) string {
	t.Helper()
	return imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
}
