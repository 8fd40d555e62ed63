package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/vuln"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// .trivyignore and .grype.yaml in the working directory are read like
// .vigil.yaml, written as Trivy and Grype document them.
func TestTrivyAndGrypeIgnoreFiles(t *testing.T) {
	base, _ := scanVulnerable(t, t.TempDir())
	var stdlib []string
	for _, f := range base.Vulnerabilities {
		if f.Package.Name == "stdlib" && f.Suppressed == nil {
			stdlib = append(stdlib, f.ID)
		}
	}
	if len(stdlib) < 3 {
		t.Fatalf("want stdlib findings, got %v", stdlib)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".trivyignore"), "# Accept the risk\n"+stdlib[0]+"\n\n# expired: applies no more\n"+stdlib[1]+" exp:2020-01-01\n")
	writeFile(t, filepath.Join(dir, ".grype.yaml"), "ignore:\n  - package:\n      type: python\n      location: \"/app/**\"\n")
	r, res := scanVulnerable(t, dir)
	for _, f := range r.Vulnerabilities {
		kind := ""
		if f.Suppressed != nil {
			kind = f.Suppressed.Kind + " " + f.Suppressed.Rule + " " + f.Suppressed.Reason
		}
		switch {
		case f.ID == stdlib[0] && f.Package.Name == "stdlib":
			if kind != "ignorefile .trivyignore:2 Accept the risk" {
				t.Errorf("%s: suppressed %q", f.ID, kind)
			}
		case f.ID == stdlib[1] && f.Package.Name == "stdlib":
			if kind != "" {
				t.Errorf("%s: expired entry still applies: %q", f.ID, kind)
			}
		case f.Package.Type == "pypi":
			if !strings.HasPrefix(kind, "ignorefile .grype.yaml:2") {
				t.Errorf("%s in %s: suppressed %q", f.ID, f.Package.Name, kind)
			}
		}
	}
	if !strings.Contains(res.stderr, stdlib[1]) {
		t.Errorf("no warning about the expired entry:\n%s", res.stderr)
	}

	// Malformed: file:line and exit 2.
	writeFile(t, filepath.Join(dir, ".trivyignore"), "CVE-2020-1\nCVE-2020-2 exp:tomorrow\n")
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	res = vigil(t, dir, nil, "image", ref)
	if res.code != 2 || !strings.Contains(res.stderr, ".trivyignore:2") {
		t.Errorf("malformed .trivyignore:\n%s", res)
	}
	os.Remove(filepath.Join(dir, ".trivyignore"))
	writeFile(t, filepath.Join(dir, "grype.yml"), "ignore:\n  - vulnerability: CVE-1\n    fix-state: perhaps\n")
	res = vigil(t, dir, nil, "image", ref, "--grype-config", "grype.yml")
	if res.code != 2 || !strings.Contains(res.stderr, "grype.yml:3") {
		t.Errorf("malformed grype config:\n%s", res)
	}
}

// --severity shows only those severities, and --exit-code without a
// threshold fails on any shown finding, as in Trivy.
func TestSeverityFilterAndExitCode(t *testing.T) {
	r, res := scanVulnerable(t, t.TempDir(), "--severity", "high,CRITICAL", "--exit-code", "4")
	if res.code != 4 {
		t.Fatalf("want exit 4 (findings shown):\n%s", res)
	}
	if len(r.Vulnerabilities) == 0 {
		t.Fatal("no HIGH or CRITICAL findings")
	}
	for _, f := range r.Vulnerabilities {
		if f.Severity != vuln.SeverityHigh && f.Severity != vuln.SeverityCritical {
			t.Errorf("%s: severity %s shown", f.ID, f.Severity)
		}
	}
	for _, s := range r.Secrets {
		if s.Severity != vuln.SeverityHigh && s.Severity != vuln.SeverityCritical {
			t.Errorf("secret %s: severity %s shown", s.Rule, s.Severity)
		}
	}
	// Nothing NEGLIGIBLE: nothing shown, nothing fails.
	r, res = scanVulnerable(t, t.TempDir(), "--severity", "NEGLIGIBLE", "--exit-code", "4", "--scanners", "vuln")
	if res.code != 0 || len(r.Vulnerabilities) != 0 {
		t.Errorf("want exit 0 with nothing shown, got %d findings:\n%s", len(r.Vulnerabilities), res)
	}
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	if res = vigil(t, "", nil, "image", ref, "--severity", "SEVERE"); res.code != 2 || !strings.Contains(res.stderr, "SEVERE") {
		t.Errorf("bad --severity:\n%s", res)
	}
}

func TestScanSelectionFlags(t *testing.T) {
	r, _ := scanVulnerable(t, t.TempDir(), "--scanners", "vuln", "--pkg-types", "os")
	if len(r.Checks) != 0 || len(r.Secrets) != 0 {
		t.Errorf("--scanners vuln ran checks (%d) or secrets (%d)", len(r.Checks), len(r.Secrets))
	}
	for _, p := range r.Packages {
		if !p.IsOS() {
			t.Errorf("--pkg-types os listed %s (%s)", p.Name, p.Type)
		}
	}
	r, _ = scanVulnerable(t, t.TempDir(), "--skip-files", "usr/local/bin/app", "--skip-dirs", "/root/.ssh,app")
	for _, p := range r.Packages {
		if p.Path == "usr/local/bin/app" || strings.HasPrefix(p.Path, "app/") {
			t.Errorf("skipped file read: %s in %s", p.Name, p.Path)
		}
	}
	for _, s := range r.Secrets {
		if strings.HasPrefix(s.Path, "root/.ssh") {
			t.Errorf("secret found in a skipped dir: %+v", s)
		}
	}
	if !slices.ContainsFunc(r.Packages, func(p inventory.Package) bool { return p.Name == "musl" }) {
		t.Error("skips removed unrelated packages")
	}
}

// Settings from the environment and the config file reach the scan.
func TestScanSettingsFromEnvAndConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".config", "vigil", "config.yaml"), "scan:\n  severity-threshold: LOW\n  exit-code: 5\n  scanners: [vuln]\n")
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	res := vigil(t, dir, nil, "image", ref, "--format", "json=r.json")
	if res.code != 5 {
		t.Fatalf("config file settings not applied:\n%s", res)
	}
	res = vigil(t, dir, []string{"VIGIL_EXIT_CODE=6"}, "image", ref, "--format", "json=r.json")
	if res.code != 6 {
		t.Fatalf("environment does not win over the config file:\n%s", res)
	}
	res = vigil(t, dir, []string{"VIGIL_EXIT_CODE=6"}, "image", ref, "--format", "json=r.json", "--exit-code", "7")
	if res.code != 7 {
		t.Fatalf("flag does not win over the environment:\n%s", res)
	}
	if r := readReport(t, filepath.Join(dir, "r.json")); len(r.Checks) != 0 {
		t.Errorf("scanners: [vuln] from the config file ran checks")
	}
}
