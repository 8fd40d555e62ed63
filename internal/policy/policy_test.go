package policy

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func mustLoad(t *testing.T, load func(string) (*Policy, error), name string) *Policy {
	t.Helper()
	p, err := load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func finding(t *testing.T, r *result.Report, id string) *vuln.Finding {
	t.Helper()
	for i := range r.Vulnerabilities {
		if r.Vulnerabilities[i].ID == id {
			return &r.Vulnerabilities[i]
		}
	}
	t.Fatalf("no finding %s in report", id)
	return nil
}

// rule returns "kind rule" of a suppression, or "" when not suppressed.
func rule(s *vuln.Suppression) string {
	if s == nil {
		return ""
	}
	return s.Kind + " " + s.Rule
}

func TestApplyPolicyFile(t *testing.T) {
	p := mustLoad(t, LoadFile, "vigil.yaml")
	r := reporttest.Report()
	warnings := p.Apply(r, testNow)

	f := filepath.Join("testdata", "vigil.yaml")
	want := map[string]string{
		"CVE-2019-5482":  "policy " + f + ":4",      // id + package name
		"CVE-2022-41723": "policy " + f + ":7",      // alias, image glob
		"CVE-2021-3449":  "",                        // expired on 2024-01-31
		"CVE-2019-11236": "",                        // image glob does not match
		"CVE-2020-1967":  "",                        // no rule
		"CVE-2022-28391": "vex vex.openvex.json#0",  // suppressed before, kept
		"CVE-2023-32681": "policy .vigil.yaml:12",   // suppressed before, kept
		"CVE-2020-1747":  "os-package apk:py3-yaml", // installed by an OS package, kept
	}
	for id, w := range want {
		if got := rule(finding(t, r, id).Suppressed); got != w {
			t.Errorf("%s suppressed by %q, want %q", id, got, w)
		}
	}
	s := finding(t, r, "CVE-2022-41723").Suppressed
	if s.Reason != "http2 server not exposed" || !s.Expires.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("suppression = %+v", s)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], f+":11: exception for CVE-2021-3449 in package pkg:apk/alpine/libssl* expired on 2024-01-31") {
		t.Errorf("warnings = %q", warnings)
	}

	checks := map[string]string{"CIS-DI-0006": "policy " + f + ":19", "CIS-DI-0010": "", "CIS-DI-0001": ""}
	for _, c := range r.Checks {
		if w, ok := checks[c.Code]; ok && rule(c.Suppressed) != w {
			t.Errorf("check %s suppressed by %q, want %q", c.Code, rule(c.Suppressed), w)
		}
	}
	if got := rule(r.Secrets[0].Suppressed); got != "policy "+f+":22" {
		t.Errorf("aws secret suppressed by %q", got)
	}
	if r.Secrets[1].Suppressed != nil {
		t.Errorf("github-pat in config:Env suppressed: %+v", r.Secrets[1].Suppressed)
	}

	r.Summarize()
	if r.Summary.Suppressed != 5 || r.Summary.Total != 4 {
		t.Errorf("summary: suppressed %d total %d", r.Summary.Suppressed, r.Summary.Total)
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	p := Merge(mustLoad(t, LoadFile, "vigil.yaml"), mustLoad(t, LoadVEX, "app.openvex.json"))
	r := reporttest.Report()
	p.Apply(r, testNow)
	before := len(finding(t, r, "CVE-2022-41723").Annotations)
	p.Apply(r, testNow)
	if after := len(finding(t, r, "CVE-2022-41723").Annotations); after != before || before != 1 {
		t.Errorf("annotations %d then %d, want 1 then 1", before, after)
	}
}

func TestExpiryBoundary(t *testing.T) {
	p, _, err := parseFile("p.yaml", []byte("ignore:\n  - id: CVE-2019-5482\n    reason: r\n    expires: 2025-06-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now        time.Time
		suppressed bool
	}{
		{time.Date(2025, 6, 1, 23, 59, 59, 0, time.UTC), true},
		{time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), false},
	} {
		r := reporttest.Report()
		w := p.Apply(r, tc.now)
		if got := finding(t, r, "CVE-2019-5482").Suppressed != nil; got != tc.suppressed {
			t.Errorf("at %v suppressed=%v, want %v", tc.now, got, tc.suppressed)
		}
		if (len(w) == 0) != tc.suppressed {
			t.Errorf("at %v warnings %q", tc.now, w)
		}
	}
}

func TestVulnRuleMatching(t *testing.T) {
	tests := []struct {
		name, rule string
		want       []string // findings suppressed (besides the fixture's two)
	}{
		{"id only", "id: cve-2020-1967", []string{"CVE-2020-1967"}},
		{"alias", "id: PYSEC-2019-133", []string{"CVE-2019-11236"}},
		{"source package name", "package: openssl", []string{"CVE-2020-1967", "CVE-2021-3449"}},
		{"binary package glob", "package: libssl*", []string{"CVE-2020-1967", "CVE-2021-3449"}},
		{"purl without version", "package: pkg:apk/alpine/libssl1.1", []string{"CVE-2020-1967", "CVE-2021-3449"}},
		{"purl with version", "package: pkg:apk/alpine/curl@7.66.0-r0", []string{"CVE-2019-5482"}},
		{"purl wrong version", "package: pkg:apk/alpine/curl@7.66.0-r1", nil},
		{"purl deep glob", "package: pkg:golang/golang.org/**", []string{"CVE-2022-41723"}},
		{"purl type glob", "package: pkg:pypi/*", []string{"CVE-2019-11236"}},
		{"id and package disagree", "id: CVE-2020-1967\n    package: curl", nil},
		{"path", "package: '**'\n    path: usr/local/bin/*", []string{"CVE-2022-41723", "GO-2021-0067"}},
		{"image tag glob", "id: CVE-2020-1967\n    image: registry.example.com/team/app:1.*", []string{"CVE-2020-1967"}},
		{"image repository", "id: CVE-2020-1967\n    image: registry.example.com/team/app", []string{"CVE-2020-1967"}},
		{"other image", "id: CVE-2020-1967\n    image: registry.example.com/other/*", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := "ignore:\n  - " + tc.rule + "\n    reason: test\n"
			p, _, err := parseFile("p.yaml", []byte(doc))
			if err != nil {
				t.Fatalf("%s\n%s", err, doc)
			}
			r := reporttest.Report()
			p.Apply(r, testNow)
			var got []string
			for _, f := range r.Vulnerabilities {
				if f.Suppressed != nil && f.Suppressed.Rule == "p.yaml:2" {
					got = append(got, f.ID)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("suppressed %v, want %v", got, tc.want)
			}
		})
	}
}

func TestImageNames(t *testing.T) {
	r := reporttest.Report()
	r.Artifact.Name = "docker-archive:/tmp/alpine.tar"
	r.Artifact.RepoTags = []string{"alpine:3.10"}
	for _, tc := range []struct {
		image string
		want  bool
	}{
		{"alpine:3.10", true},
		{"alpine", true},
		{"docker.io/library/alpine:*", true},
		{"index.docker.io/library/alpine", true},
		{"docker-archive:**", true},
		{"alpine:3.11", false},
		{"library/alpine:3.1?", false},
	} {
		p, _, err := parseFile("p.yaml", []byte("ignore:\n  - id: CVE-2020-1967\n    reason: r\n    image: '"+tc.image+"'\n"))
		if err != nil {
			t.Fatal(err)
		}
		rr := reporttest.Report()
		rr.Artifact = r.Artifact
		p.Apply(rr, testNow)
		if got := finding(t, rr, "CVE-2020-1967").Suppressed != nil; got != tc.want {
			t.Errorf("image %q matched=%v, want %v", tc.image, got, tc.want)
		}
	}
}

func TestAllowlist(t *testing.T) {
	p := mustLoad(t, LoadAllowlist, "allowedlist.yaml")
	r := reporttest.Report()
	w := p.Apply(r, testNow)
	f := filepath.Join("testdata", "allowedlist.yaml")
	s := finding(t, r, "CVE-2020-1967").Suppressed
	if rule(s) != "allowlist "+f+":3" || s.Reason != "base image, fix pending" {
		t.Errorf("CVE-2020-1967 suppression %+v", s)
	}
	if s := finding(t, r, "CVE-2019-11236").Suppressed; s != nil {
		t.Errorf("expired entry applied: %+v", s)
	}
	if len(w) != 1 || !strings.HasPrefix(w[0], f+":4: exception for CVE-2019-11236 expired on 2020-01-01") {
		t.Errorf("warnings %q", w)
	}
	for _, c := range r.Checks {
		switch c.Code {
		case "CIS-DI-0010":
			if rule(c.Suppressed) != "allowlist "+f+":6" {
				t.Errorf("CIS-DI-0010 suppression %+v", c.Suppressed)
			}
		case "DKL-DI-0006": // already suppressed in the fixture
			if c.Suppressed.Rule != ".github/containerscan/allowedlist.yaml" {
				t.Errorf("DKL-DI-0006 suppression replaced: %+v", c.Suppressed)
			}
		}
	}
}

func TestAllowlistLenient(t *testing.T) {
	// What Azure/container-scan accepts, Vigil accepts: unknown keys,
	// empty lists, numbers, comments.
	for _, doc := range []string{
		"",
		"general:\n",
		"general:\n  vulnerabilities:\n  bestPracticeViolations: []\n",
		"other: 1\ngeneral:\n  extra: [1, 2]\n  vulnerabilities:\n    - 'CVE-2020-1967 # trivy comment'\n",
		"general:\n  vulnerabilities:\n    - |\n      # comment line\n      CVE-2020-1967\n      CVE-2019-5482\n",
	} {
		if _, err := parseAllowlist("a.yaml", []byte(doc)); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
	p, err := parseAllowlist("a.yaml", []byte("general:\n  vulnerabilities:\n    - |\n      CVE-2020-1967\n      CVE-2019-5482\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := reporttest.Report()
	p.Apply(r, testNow)
	if rule(finding(t, r, "CVE-2019-5482").Suppressed) != "allowlist a.yaml:4" {
		t.Errorf("multi-line entry: %+v", finding(t, r, "CVE-2019-5482").Suppressed)
	}
}

func TestMergeNilSafe(t *testing.T) {
	p := Merge(nil, nil)
	if p == nil || !p.Empty() {
		t.Fatalf("Merge(nil, nil) = %+v", p)
	}
	var np *Policy
	if w := np.Apply(reporttest.Report(), testNow); w != nil {
		t.Errorf("nil policy warnings %q", w)
	}
	if (&Policy{}).Apply(nil, testNow) != nil {
		t.Error("nil report")
	}
}

// TestPrecedence: exception rules are tried in Merge order and win over VEX.
func TestPrecedence(t *testing.T) {
	p := Merge(mustLoad(t, LoadFile, "vigil.yaml"), mustLoad(t, LoadAllowlist, "allowedlist.yaml"),
		mustLoad(t, LoadVEX, "app.openvex.json"), mustLoad(t, LoadVEX, "app.cdx.json"))
	r := reporttest.Report()
	p.Apply(r, testNow)
	want := map[string]string{
		"CVE-2019-5482":  "policy testdata/vigil.yaml:4",          // also VEX not_affected
		"CVE-2020-1967":  "allowlist testdata/allowedlist.yaml:3", // also VEX not_affected
		"CVE-2019-11236": "vex testdata/app.cdx.json#0",           // allow-list entry expired
		"CVE-2022-41723": "policy testdata/vigil.yaml:7",          // VEX says affected: annotated
		"CVE-2021-3449":  "",
	}
	for id, w := range want {
		if got := rule(finding(t, r, id).Suppressed); got != w {
			t.Errorf("%s suppressed by %q, want %q", id, got, w)
		}
	}
	// Both VEX documents speak about CVE-2022-41723 at the same time; the
	// one loaded last (CycloneDX, in_triage) wins.
	if a := finding(t, r, "CVE-2022-41723").Annotations; len(a) != 1 || !strings.HasPrefix(a[0], "VEX in_triage (testdata/app.cdx.json#1): reviewing HTTP/2 exposure; action: update") {
		t.Errorf("annotations %q", a)
	}
}
