package policy

import (
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]string{"": "", "high": "HIGH", " Critical ": "CRITICAL", "unknown": "UNKNOWN", "NEGLIGIBLE": "NEGLIGIBLE"} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v", in, got, err)
		}
	}
	_, err := ParseSeverity("severe")
	if err == nil || err.Error() != `invalid severity "severe": want one of UNKNOWN, NEGLIGIBLE, LOW, MEDIUM, HIGH, CRITICAL` {
		t.Errorf("error %v", err)
	}
	if _, err := ParseCheckLevel("pass"); err == nil || !strings.Contains(err.Error(), "INFO, WARN, FATAL") {
		t.Errorf("ParseCheckLevel(pass) error %v", err)
	}
}

func TestEvaluate(t *testing.T) {
	// The fixture's unsuppressed findings: CRITICAL CVE-2019-5482 (fixed),
	// HIGH CVE-2020-1967 (fixed), HIGH CVE-2022-41723 (fixed), MEDIUM
	// CVE-2021-3449 (not fixed), MEDIUM CVE-2019-11236 (fixed), UNKNOWN
	// GO-2021-0067 (fixed). Suppressed: LOW CVE-2022-28391, MEDIUM CVE-2023-32681.
	tests := []struct {
		name    string
		opts    GateOptions
		reasons []string
	}{
		{"no gate", GateOptions{}, nil},
		{"critical", GateOptions{Threshold: "critical"}, []string{
			"1 vulnerability at or above CRITICAL (1 CRITICAL): CVE-2019-5482 in curl"}},
		{"high", GateOptions{Threshold: "HIGH"}, []string{
			"3 vulnerabilities at or above HIGH (1 CRITICAL, 2 HIGH): CVE-2019-5482 in curl, CVE-2020-1967 in libssl1.1, CVE-2022-41723 in golang.org/x/net"}},
		{"medium", GateOptions{Threshold: "MEDIUM"}, []string{
			"5 vulnerabilities at or above MEDIUM (1 CRITICAL, 2 HIGH, 2 MEDIUM): CVE-2019-5482 in curl, CVE-2020-1967 in libssl1.1, CVE-2022-41723 in golang.org/x/net, CVE-2019-11236 in urllib3, CVE-2021-3449 in libssl1.1"}},
		{"medium fixed only", GateOptions{Threshold: "MEDIUM", IgnoreUnfixed: true}, []string{
			"4 vulnerabilities with a fix at or above MEDIUM (1 CRITICAL, 2 HIGH, 1 MEDIUM): CVE-2019-5482 in curl, CVE-2020-1967 in libssl1.1, CVE-2022-41723 in golang.org/x/net, CVE-2019-11236 in urllib3"}},
		{"low skips suppressed LOW and UNKNOWN", GateOptions{Threshold: "LOW", OnlyFixed: true}, []string{
			"4 vulnerabilities with a fix at or above LOW (1 CRITICAL, 2 HIGH, 1 MEDIUM): CVE-2019-5482 in curl, CVE-2020-1967 in libssl1.1, CVE-2022-41723 in golang.org/x/net, CVE-2019-11236 in urllib3"}},
		{"unknown counts everything", GateOptions{Threshold: "UNKNOWN"}, []string{
			"6 vulnerabilities at or above UNKNOWN (1 CRITICAL, 2 HIGH, 2 MEDIUM, 1 UNKNOWN): CVE-2019-5482 in curl, CVE-2020-1967 in libssl1.1, CVE-2022-41723 in golang.org/x/net, CVE-2019-11236 in urllib3, CVE-2021-3449 in libssl1.1, and 1 more"}},
		{"exit-code alone counts every finding shown", GateOptions{FailOnAny: true}, []string{
			"6 vulnerabilities shown (--exit-code without --severity-threshold) (1 CRITICAL, 2 HIGH, 2 MEDIUM, 1 UNKNOWN): CVE-2019-5482 in curl, CVE-2020-1967 in libssl1.1, CVE-2022-41723 in golang.org/x/net, CVE-2019-11236 in urllib3, CVE-2021-3449 in libssl1.1, and 1 more",
			"2 secrets found: aws-access-key-id in app/.env:3, github-pat in config:Env"}},
		{"checks warn", GateOptions{CheckLevel: "warn"}, []string{
			"2 best-practice violations at or above WARN: CIS-DI-0006 (WARN), CIS-DI-0010 (FATAL)"}},
		{"checks fatal", GateOptions{CheckLevel: "FATAL"}, []string{
			"1 best-practice violation at or above FATAL: CIS-DI-0010 (FATAL)"}},
		{"secrets", GateOptions{FailOnSecrets: true}, []string{
			"2 secrets found: aws-access-key-id in app/.env:3, github-pat in config:Env"}},
		{"bad options fail closed", GateOptions{Threshold: "severe", CheckLevel: "loud"}, []string{
			`gate misconfigured: invalid severity "severe": want one of UNKNOWN, NEGLIGIBLE, LOW, MEDIUM, HIGH, CRITICAL`,
			`gate misconfigured: invalid check level "loud": want one of INFO, WARN, FATAL`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := reporttest.Report()
			g := Evaluate(r, tc.opts)
			if g.Failed != (len(tc.reasons) > 0) || strings.Join(g.Reasons, "\n") != strings.Join(tc.reasons, "\n") {
				t.Errorf("failed=%v reasons:\n%s\nwant:\n%s", g.Failed, strings.Join(g.Reasons, "\n"), strings.Join(tc.reasons, "\n"))
			}
		})
	}
}

func TestEvaluateAfterApply(t *testing.T) {
	p := Merge(mustLoad(t, LoadFile, "vigil.yaml"), mustLoad(t, LoadVEX, "app.openvex.json"))
	r := reporttest.Report()
	p.Apply(r, testNow)
	g := Evaluate(r, GateOptions{Threshold: "HIGH", CheckLevel: "WARN", FailOnSecrets: true})
	want := []string{
		"1 best-practice violation at or above WARN: CIS-DI-0010 (FATAL)",
		"1 secret found: github-pat in config:Env",
	}
	if !g.Failed || g.Threshold != "HIGH" || strings.Join(g.Reasons, "\n") != strings.Join(want, "\n") {
		t.Errorf("gate %+v", g)
	}
	r.Checks, r.Secrets = nil, nil
	if g := Evaluate(r, GateOptions{Threshold: "HIGH", CheckLevel: "WARN", FailOnSecrets: true}); g.Failed {
		t.Errorf("all HIGH findings are excepted, gate failed: %+v", g)
	}
	if g := Evaluate(nil, GateOptions{Threshold: "HIGH"}); g.Failed {
		t.Errorf("nil report: %+v", g)
	}
}

func TestEvaluateManyFindings(t *testing.T) {
	r := &result.Report{}
	for i := range 1000 {
		r.Vulnerabilities = append(r.Vulnerabilities, vuln.Finding{ID: "CVE-2024-" + string(rune('A'+i%26)), Severity: vuln.SeverityHigh,
			Package: vuln.PackageRef{Name: "p"}})
	}
	g := Evaluate(r, GateOptions{Threshold: "HIGH"})
	if !g.Failed || !strings.HasSuffix(g.Reasons[0], ", and 995 more") || len(g.Reasons[0]) > 300 {
		t.Errorf("reason %q", g.Reasons)
	}
}
