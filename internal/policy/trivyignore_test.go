package policy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

// The ignore files in testdata are written as Trivy and Grype document them.
func TestTrivyIgnore(t *testing.T) {
	p := mustLoad(t, LoadTrivyIgnore, "trivyignore")
	r := reporttest.Report()
	warnings := p.Apply(r, testNow)
	f := filepath.Join("testdata", "trivyignore")
	for id, want := range map[string]string{
		"CVE-2020-1967":  "ignorefile " + f + ":2",
		"CVE-2019-5482":  "ignorefile " + f + ":5",
		"CVE-2021-3449":  "", // expired
		"CVE-2019-11236": "",
	} {
		if got := rule(finding(t, r, id).Suppressed); got != want {
			t.Errorf("%s: suppressed by %q, want %q", id, got, want)
		}
	}
	if got := finding(t, r, "CVE-2019-5482").Suppressed.Reason; got != "Accept the risk until 2030-01-01" {
		t.Errorf("reason from the comment above: %q", got)
	}
	for _, c := range r.Checks {
		if c.Code == "CIS-DI-0006" && c.Suppressed == nil {
			t.Error("check CIS-DI-0006 not ignored")
		}
	}
	for _, s := range r.Secrets {
		if s.Rule == "aws-access-key-id" && s.Suppressed == nil {
			t.Error("secret aws-access-key-id not ignored")
		}
	}
	if len(warnings) == 0 || !strings.Contains(strings.Join(warnings, "\n"), "CVE-2021-3449") {
		t.Errorf("no warning for the expired entry: %q", warnings)
	}
}

func TestTrivyIgnoreYAML(t *testing.T) {
	p := mustLoad(t, LoadTrivyIgnore, "trivyignore.yaml")
	r := reporttest.Report()
	p.Apply(r, testNow)
	f := filepath.Join("testdata", "trivyignore.yaml")
	for id, want := range map[string]string{
		"CVE-2019-11236": "ignorefile " + f + ":2",
		"CVE-2020-1967":  "ignorefile " + f + ":6",
		"CVE-2021-3449":  "", // purl names another package
		"CVE-2019-5482":  "",
	} {
		if got := rule(finding(t, r, id).Suppressed); got != want {
			t.Errorf("%s: suppressed by %q, want %q", id, got, want)
		}
	}
	for _, s := range r.Secrets {
		if s.Rule == "aws-access-key-id" && s.Suppressed != nil {
			t.Error("secret ignored although its path does not match")
		}
	}
}

func TestGrypeIgnore(t *testing.T) {
	p := mustLoad(t, LoadGrypeConfig, "grype.yaml")
	r := reporttest.Report()
	p.Apply(r, testNow)
	f := filepath.Join("testdata", "grype.yaml")
	for id, want := range map[string]string{
		"CVE-2019-5482":  "ignorefile " + f + ":14",
		"CVE-2019-11236": "ignorefile " + f + ":16", // python under the location
		"CVE-2023-32681": "policy .vigil.yaml:12",   // suppressed before, kept
		"CVE-2021-3449":  "ignorefile " + f + ":19", // not-fixed libssl1.1
		"CVE-2020-1967":  "",                        // fixed: the fix-state rule does not match
		"CVE-2022-41723": "",
	} {
		if got := rule(finding(t, r, id).Suppressed); got != want {
			t.Errorf("%s: suppressed by %q, want %q", id, got, want)
		}
	}
}

func TestIgnoreFilesMalformed(t *testing.T) {
	tests := []struct {
		name, data, want string
		load             func(string, []byte) (*Policy, error)
	}{
		{"bad-exp", "CVE-1\n\nCVE-2 exp:2024-13-01\n", "x:3: invalid expiry", parseTrivyIgnore},
		{"extra-field", "CVE-1 because\n", "x:1: unexpected \"because\"", parseTrivyIgnore},
		{"yaml-unknown-key", "vulnerabilities:\n  - id: CVE-1\n    path: a\n", "x:3", parseTrivyIgnoreYAML},
		{"yaml-no-id", "secrets:\n  - paths: [a]\n", "x:2", parseTrivyIgnoreYAML},
		{"yaml-bad-date", "vulnerabilities:\n  - id: CVE-1\n    expired_at: soon\n", "x:3", parseTrivyIgnoreYAML},
		{"yaml-syntax", "vulnerabilities: [\n", "x:", parseTrivyIgnoreYAML},
		{"grype-not-list", "ignore: CVE-1\n", "x:1", parseGrypeConfig},
		{"grype-empty-rule", "ignore:\n  - reason: x\n", "x:2", parseGrypeConfig},
		{"grype-fix-state", "ignore:\n  - vulnerability: CVE-1\n    fix-state: maybe\n", "x:3", parseGrypeConfig},
		{"grype-match-type", "ignore:\n  - vulnerability: CVE-1\n    match-type: cpe-match\n", "x:3: match-type is not supported", parseGrypeConfig},
		{"grype-package-key", "ignore:\n  - package: {nam: x}\n", "x:2", parseGrypeConfig},
		{"grype-bad-glob", "ignore:\n  - package: {location: '[a'}\n", "x:2", parseGrypeConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.load("x", []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
