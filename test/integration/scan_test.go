package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// The real Alpine 3.10.4 image against the real 2020 secdb: every package
// is at or past its fixed version, so no finding, and the gate passes.
func TestScanAlpine310NoFindings(t *testing.T) {
	dir := t.TempDir()
	ref := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	res := vigil(t, dir, nil, "image", ref, "--severity-threshold", "LOW", "--format", "table", "--format", "json=report.json")
	if res.code != 0 {
		t.Fatalf("want exit 0:\n%s", res)
	}
	r := readReport(t, filepath.Join(dir, "report.json"))
	if len(r.Packages) != 14 {
		t.Errorf("packages = %d, want 14", len(r.Packages))
	}
	if r.Artifact.OS.Family != "alpine" || r.Artifact.OS.Version != "3.10.4" {
		t.Errorf("os = %+v", r.Artifact.OS)
	}
	if len(r.Vulnerabilities) != 0 {
		t.Errorf("want no findings on alpine 3.10.4 with the 2020 secdb, got %d: %v", len(r.Vulnerabilities), ids(r.Vulnerabilities))
	}
	if r.Summary.Gate == nil || r.Summary.Gate.Failed {
		t.Errorf("gate = %+v", r.Summary.Gate)
	}
	if r.DB == nil || r.DB.Built.IsZero() {
		t.Errorf("report does not say which DB: %+v", r.DB)
	}
	if !strings.Contains(res.stdout, "libssl1.1") && !strings.Contains(res.stdout, "No vulnerabilities") {
		t.Logf("table output:\n%s", res.stdout)
	}
	// The table ends with a summary line.
	if !strings.Contains(strings.ToLower(res.stdout), "total") {
		t.Errorf("table has no summary line:\n%s", res.stdout)
	}
}

func ids(fs []vuln.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+"/"+f.Package.Name)
	}
	return out
}

// scanVulnerable scans the generated vulnerable image with args and
// returns the JSON report and the run.
func scanVulnerable(t *testing.T, dir string, args ...string) (*result.Report, run) {
	t.Helper()
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	all := append([]string{"image", ref, "--format", "json=report.json"}, args...)
	res := vigil(t, dir, nil, all...)
	if res.code == 2 {
		t.Fatalf("scan failed:\n%s", res)
	}
	return readReport(t, filepath.Join(dir, "report.json")), res
}

func TestVulnerableImageFindingsAndGate(t *testing.T) {
	dir := t.TempDir()
	r, res := scanVulnerable(t, dir, "--severity-threshold", "HIGH", "--exit-code", "3")
	if res.code != 3 {
		t.Fatalf("want the gate to fail with --exit-code 3:\n%s", res)
	}
	if !strings.Contains(res.stderr, "gate failed") || !strings.Contains(res.stderr, "HIGH") {
		t.Errorf("stderr does not say why the gate failed:\n%s", res.stderr)
	}
	if r.Summary.Gate == nil || !r.Summary.Gate.Failed || len(r.Summary.Gate.Reasons) == 0 {
		t.Errorf("gate in JSON = %+v", r.Summary.Gate)
	}

	// Go 1.15.2's standard library has many fixed CVEs; they come from the
	// COPY layer, which is not part of the base image.
	var stdlib []vuln.Finding
	for _, f := range r.Vulnerabilities {
		if f.Package.Name == "stdlib" {
			stdlib = append(stdlib, f)
		}
		if f.Package.Type == "apk" {
			t.Errorf("alpine package finding %s in %s: the 3.10 secdb fixes all of them", f.ID, f.Package.Name)
		}
	}
	if len(stdlib) < 20 {
		t.Fatalf("stdlib findings = %d, want many (go1.15.2)", len(stdlib))
	}
	for _, f := range stdlib {
		if f.Layer == nil || f.Layer.Base || !strings.Contains(f.Layer.CreatedBy, "COPY app") {
			t.Errorf("%s: layer = %+v, want the COPY layer", f.ID, f.Layer)
		}
		if len(f.FixedVersions) == 0 || f.Remediation == "" {
			t.Errorf("%s: no fix or remediation: %+v", f.ID, f)
		}
		// The Go vulndb publishes no severity and the corpus has no NVD
		// data: UNKNOWN with no source is the honest answer.
		if f.Severity == "" || (f.Severity != vuln.SeverityUnknown && f.SeveritySource == "") {
			t.Errorf("%s: severity %q from %q", f.ID, f.Severity, f.SeveritySource)
		}
	}
	// One finding per (package, vulnerability), CVE first when known.
	seen := map[string]bool{}
	for _, f := range r.Vulnerabilities {
		k := f.Package.Name + " " + f.Package.Path + " " + f.ID
		if seen[k] {
			t.Errorf("duplicate finding %s", k)
		}
		seen[k] = true
		for _, a := range f.Aliases {
			if strings.HasPrefix(a, "CVE-") && !strings.HasPrefix(f.ID, "CVE-") {
				t.Errorf("finding %s has CVE alias %s but a non-CVE primary id", f.ID, a)
			}
		}
	}
	if r.Summary.Total == 0 || r.Summary.BySeverity[vuln.SeverityHigh]+r.Summary.BySeverity[vuln.SeverityCritical] == 0 {
		t.Errorf("summary = %+v", r.Summary)
	}
}

func TestVulnerableImageChecksAndSecrets(t *testing.T) {
	dir := t.TempDir()
	r, _ := scanVulnerable(t, dir)
	levels := map[string]string{}
	for _, c := range r.Checks {
		levels[c.Code] = c.Level
	}
	for code, want := range map[string]string{
		"CIS-DI-0001": result.LevelWarn,  // root user
		"CIS-DI-0006": result.LevelInfo,  // no HEALTHCHECK
		"CIS-DI-0008": result.LevelInfo,  // setuid helper
		"CIS-DI-0009": result.LevelFatal, // ADD
		"CIS-DI-0010": result.LevelFatal, // secrets in ENV
		"DKL-DI-0004": result.LevelFatal, // apk add without --no-cache
	} {
		if got := levels[code]; got == "" || got == result.LevelPass {
			t.Errorf("check %s = %q, want it violated (%s)", code, got, want)
		}
	}
	rules := map[string]result.Secret{}
	for _, s := range r.Secrets {
		rules[s.Rule] = s
	}
	key, ok := findSecret(r.Secrets, "root/.ssh/id_rsa")
	if !ok {
		t.Fatalf("private key not found; secrets: %+v", r.Secrets)
	}
	if key.Line != 1 || key.Layer == nil || !strings.Contains(key.Layer.CreatedBy, "ADD id_rsa") {
		t.Errorf("private key secret = %+v", key)
	}
	if _, ok := findSecret(r.Secrets, "config:Env"); !ok {
		t.Errorf("AWS key in ENV not found: %+v", r.Secrets)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu", "hunter2-but-longer-Xq9"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("report contains the secret %q in clear", secret)
		}
	}
}

func findSecret(ss []result.Secret, path string) (result.Secret, bool) {
	for _, s := range ss {
		if s.Path == path {
			return s, true
		}
	}
	return result.Secret{}, false
}

// Every CI format in one run, each parseable, SARIF and CycloneDX against
// their official schemas (the report package validates them in depth).
func TestAllFormatsInOneRun(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM alpine:3.10\nCOPY app /usr/local/bin/app\n"), 0o644)
	_, res := scanVulnerable(t, dir, "--format", "table", "--format", "sarif=out.sarif", "--format", "cyclonedx=out.cdx.json",
		"--format", "spdx-json=out.spdx.json", "--format", "junit=out.xml", "--format", "gitlab=gl.json",
		"--format", "containerscan=scanreport.json", "--format", "markdown=summary.md", "--dockerfile", "Dockerfile")
	if res.code != 0 {
		t.Fatalf("no threshold: want exit 0:\n%s", res)
	}
	for _, f := range []string{"out.sarif", "out.cdx.json", "out.spdx.json", "gl.json", "scanreport.json"} {
		var v map[string]any
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	sarif, _ := os.ReadFile(filepath.Join(dir, "out.sarif"))
	if !strings.Contains(string(sarif), `"uri": "Dockerfile"`) {
		t.Errorf("SARIF does not point at the Dockerfile")
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "out.xml"))
	if !strings.Contains(string(junit), "<testsuite") || !strings.Contains(string(junit), "<failure") {
		t.Errorf("junit has no failures")
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	if !strings.Contains(string(md), "|") {
		t.Errorf("markdown summary has no table:\n%s", md)
	}
	if !strings.Contains(res.stdout, "stdlib") {
		t.Errorf("table on stdout lacks stdlib findings")
	}
}

func TestPolicyAllowlistAndVEX(t *testing.T) {
	dir := t.TempDir()
	base, _ := scanVulnerable(t, dir)
	var target vuln.Finding
	for _, f := range base.Vulnerabilities {
		if f.Package.Name == "stdlib" && strings.HasPrefix(f.ID, "CVE-") {
			target = f
			break
		}
	}
	if target.ID == "" {
		t.Fatal("no stdlib CVE to suppress")
	}
	second := ""
	for _, f := range base.Vulnerabilities {
		if f.Package.Name == "stdlib" && f.ID != target.ID && strings.HasPrefix(f.ID, "CVE-") {
			second = f.ID
			break
		}
	}
	pol := "version: 1\nignore:\n  - id: " + target.ID + "\n    package: stdlib\n    reason: not reachable from our handlers\n" +
		"  - id: CVE-1999-0001\n    reason: old\n    expires: 2020-01-01\nchecks:\n  - code: CIS-DI-0006\n    reason: health is checked by the orchestrator\n"
	os.WriteFile(filepath.Join(dir, ".vigil.yaml"), []byte(pol), 0o644)
	os.MkdirAll(filepath.Join(dir, ".github", "containerscan"), 0o755)
	os.WriteFile(filepath.Join(dir, ".github", "containerscan", "allowedlist.yaml"),
		[]byte("general:\n  vulnerabilities:\n    - "+second+"\n  bestPracticeViolations:\n    - CIS-DI-0001\n"), 0o644)
	// A third finding, named in VEX by its Go advisory alias, about the
	// package itself as the product.
	var third vuln.Finding
	for _, f := range base.Vulnerabilities {
		if f.Package.Name == "stdlib" && f.ID != target.ID && f.ID != second && slices.ContainsFunc(f.Aliases, func(a string) bool { return strings.HasPrefix(a, "GO-") }) {
			third = f
			break
		}
	}
	vexName := ""
	for _, a := range third.Aliases {
		if strings.HasPrefix(a, "GO-") {
			vexName = a
		}
	}
	vex := `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"sec team","timestamp":"2026-01-01T00:00:00Z","version":1,
"statements":[{"vulnerability":{"name":"` + vexName + `"},"products":[{"@id":"` + third.Package.PURL + `"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`
	os.WriteFile(filepath.Join(dir, "vex.json"), []byte(vex), 0o644)

	r, res := scanVulnerable(t, dir, "--vex", "vex.json")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	byID := map[string]vuln.Finding{}
	for _, f := range r.Vulnerabilities {
		byID[f.ID] = f
	}
	if s := byID[target.ID].Suppressed; s == nil || s.Kind != "policy" || !strings.Contains(s.Rule, ".vigil.yaml") || s.Reason == "" {
		t.Errorf("%s suppression = %+v", target.ID, s)
	}
	if s := byID[second].Suppressed; s == nil || s.Kind != "allowlist" {
		t.Errorf("%s suppression = %+v", second, s)
	}
	if s := byID[third.ID].Suppressed; s == nil || s.Kind != "vex" || s.Justification != "vulnerable_code_not_in_execute_path" {
		t.Errorf("%s (VEX %s on %s) suppression = %+v", third.ID, vexName, third.Package.PURL, s)
	}
	if !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "CVE-1999-0001") && strings.Contains(w, "expired") }) {
		t.Errorf("no warning for the expired entry: %v", r.Warnings)
	}
	for _, c := range r.Checks {
		if (c.Code == "CIS-DI-0006" || c.Code == "CIS-DI-0001") && c.Suppressed == nil && c.Violated() {
			t.Errorf("check %s not suppressed", c.Code)
		}
	}
	if r.Summary.Suppressed < 3 || r.Summary.Total != len(base.Vulnerabilities)-r.Summary.Suppressed {
		t.Errorf("summary = %+v (base %d findings)", r.Summary, len(base.Vulnerabilities))
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("version: 1\nignore:\n  - id: CVE-1\n    frobnicate: yes\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad-vex.json"), []byte(`{"statements": [`), 0o644)
	os.WriteFile(filepath.Join(dir, "garbage.tar"), []byte("this is not a tar"), 0o644)
	ref := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing archive", []string{"image", "docker-archive:" + filepath.Join(dir, "nope.tar")}, "nope.tar"},
		{"garbage archive", []string{"image", "docker-archive:" + filepath.Join(dir, "garbage.tar")}, "garbage.tar"},
		{"bad policy", []string{"image", ref, "--policy", "bad.yaml"}, "bad.yaml:4"},
		{"bad vex", []string{"image", ref, "--vex", "bad-vex.json"}, "bad-vex.json"},
		{"bad severity", []string{"image", ref, "--severity-threshold", "SEVERE"}, "SEVERE"},
		{"bad format", []string{"image", ref, "--format", "html"}, "html"},
		{"unwritable output", []string{"image", ref, "--format", "json=" + filepath.Join(dir, "no", "such", "dir", "r.json")}, "no/such/dir"},
		{"missing db", []string{"image", ref, "--db", filepath.Join(dir, "none.db"), "--skip-db-update"}, "vigil db update"},
		{"corrupt db", []string{"image", ref, "--db", filepath.Join(dir, "garbage.tar")}, "vigil db update"},
		{"bad check threshold", []string{"image", ref, "--check-threshold", "SEVERE"}, "--check-threshold"},
		{"exit code out of range", []string{"image", ref, "--exit-code", "300"}, "--exit-code"},
		{"output without a stdout format", []string{"image", ref, "--format", "json=a.json", "--output", "b.json"}, "--output"},
		{"publish without a server", []string{"image", ref, "--publish"}, "--server"},
		{"publish to a non-URL server", []string{"image", ref, "--publish", "--server", "vigil.example.com"}, "not an http(s) URL"},
		{"two formats on stdout", []string{"image", ref, "--format", "table", "--format", "json"}, "standard output"},
		{"sbom bad format", []string{"sbom", ref, "--format", "sarif"}, "sarif"},
		{"sbom-scan not an sbom", []string{"sbom-scan", "bad.yaml"}, "bad.yaml"},
		{"sbom-scan missing file", []string{"image", "sbom:" + filepath.Join(dir, "none.json")}, "none.json"},
		{"zero layer size limit", []string{"image", ref, "--max-layer-size", "0"}, "--max-layer-size"},
		{"sbom negative layer size limit", []string{"sbom", ref, "--max-layer-size=-1"}, "--max-layer-size"},
		{"lint zero layer size limit", []string{"lint", ref, "--max-layer-size", "0"}, "--max-layer-size"},
		{"lint bad exit level", []string{"lint", ref, "--exit-level", "LOUD"}, "--exit-level"},
		{"lint bad policy", []string{"lint", ref, "--policy", "bad.yaml"}, "bad.yaml:4"},
		{"lint exit code out of range", []string{"lint", ref, "--exit-code", "-1"}, "--exit-code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := vigil(t, dir, nil, tc.args...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("want exit 2 mentioning %q:\n%s", tc.want, res)
			}
		})
	}
}

// An SBOM written by `vigil sbom` and scanned with `vigil sbom-scan` finds
// what scanning the image finds.
func TestSbomRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ref := imagetest.WriteDockerArchive(t, vulnerableImage(t), "example.com/shop/api:1.0")
	for _, format := range []string{"cyclonedx-json", "spdx-json"} {
		t.Run(format, func(t *testing.T) {
			res := vigil(t, dir, nil, "sbom", ref, "--format", format, "--output", format+".json")
			if res.code != 0 {
				t.Fatalf("%s", res)
			}
			img := vigil(t, dir, nil, "image", ref, "--format", "json=image.json", "--checks=false", "--secrets=false")
			// Both spellings: `sbom-scan FILE` and `image sbom:FILE`.
			args := []string{"sbom-scan", format + ".json"}
			if format == "spdx-json" {
				args = []string{"image", "sbom:" + format + ".json", "--platform", "linux/arm64"}
			}
			sb := vigil(t, dir, nil, append(args, "--format", "json=sbom.json")...)
			if img.code != 0 || sb.code != 0 {
				t.Fatalf("image:\n%s\nsbom-scan:\n%s", img, sb)
			}
			if format == "spdx-json" && !strings.Contains(sb.stderr, "--platform does not apply to an SBOM") {
				t.Errorf("no warning for an image-only flag:\n%s", sb)
			}
			a, b := readReport(t, filepath.Join(dir, "image.json")), readReport(t, filepath.Join(dir, "sbom.json"))
			if got, want := findingKeys(b), findingKeys(a); !slices.Equal(got, want) {
				t.Errorf("sbom-scan found %d findings, image scan %d", len(got), len(want))
			}
		})
	}
}

func findingKeys(r *result.Report) []string {
	var out []string
	for _, f := range r.Vulnerabilities {
		out = append(out, f.Package.Name+"@"+f.Package.Version+" "+f.ID)
	}
	slices.Sort(out)
	return out
}

func TestLintDockleImage(t *testing.T) {
	ref := "docker-archive:" + corpus.Path(t, "images", "dockle-scratch.tar")
	dir := t.TempDir()
	res := vigil(t, dir, nil, "lint", ref, "--format", "json=lint.json", "--exit-level", "FATAL")
	if res.code == 2 {
		t.Fatalf("%s", res)
	}
	r := readReport(t, filepath.Join(dir, "lint.json"))
	if len(r.Checks) < 15 {
		t.Errorf("lint ran %d checks, want every rule", len(r.Checks))
	}
	if len(r.Vulnerabilities) != 0 {
		t.Errorf("lint must not match vulnerabilities")
	}
}
