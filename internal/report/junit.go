package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// JUnit XML as Azure Pipelines' PublishTestResults and GitLab's
// artifacts:reports:junit read it: one suite per target, one test case per
// finding, failed when the finding would fail the gate.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func (s *junitSuite) add(c junitCase) {
	s.Tests++
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// findingFails says whether a finding is reported as a failed test: at or
// above the gate threshold, or any finding when there is no threshold.
func findingFails(f vuln.Finding, gate *result.Gate) bool {
	if gate == nil || gate.Threshold == "" {
		return true
	}
	return vuln.SeverityRank(f.Severity) >= vuln.SeverityRank(gate.Threshold)
}

func writeJUnit(w io.Writer, r *result.Report, opts Options) error {
	doc := junitSuites{Name: "vigil " + artifactName(r.Artifact)}
	if !opts.SBOMOnly {
		for _, g := range groupByTarget(r.Artifact, r.Vulnerabilities) {
			s := junitSuite{Name: g.Target, Time: "0"}
			for _, f := range g.Findings {
				c := junitCase{
					Name:      fmt.Sprintf("[%s] %s %s@%s", f.Severity, f.ID, f.Package.Name, f.Package.Version),
					Classname: g.Target, Time: "0",
				}
				switch {
				case f.Suppressed != nil:
					c.Skipped = &junitSkipped{Message: suppressionText(f.Suppressed)}
				case findingFails(f, r.Summary.Gate):
					c.Failure = &junitFailure{
						Message: fmt.Sprintf("%s: %s", f.ID, title(f)),
						Type:    f.Severity,
						Body:    junitDetails(f),
					}
				}
				s.add(c)
			}
			doc.Suites = append(doc.Suites, s)
		}
	}
	if len(r.NotJudged) > 0 && !opts.SBOMOnly {
		s := junitSuite{Name: "not judged", Time: "0"}
		for _, n := range r.NotJudged {
			tc := junitCase{Name: "[NOT JUDGED] " + n.Target + " (" + n.Reason + ")", Classname: "not judged", Time: "0"}
			if failsGate(r.Summary.Gate, "not judged") {
				tc.Failure = &junitFailure{Message: n.Message, Type: "NOT-JUDGED", Body: n.String()}
			} else {
				tc.Skipped = &junitSkipped{Message: n.Message}
			}
			s.add(tc)
		}
		doc.Suites = append(doc.Suites, s)
	}
	if len(r.Checks) > 0 {
		s := junitSuite{Name: "best-practice checks", Time: "0"}
		for _, c := range sortedChecks(r.Checks) {
			tc := junitCase{Name: fmt.Sprintf("[%s] %s %s", c.Level, c.Code, c.Title), Classname: "best-practice checks", Time: "0"}
			switch {
			case c.Suppressed != nil && c.Violated():
				tc.Skipped = &junitSkipped{Message: suppressionText(c.Suppressed)}
			case c.Level == result.LevelSkip:
				tc.Skipped = &junitSkipped{Message: "check skipped"}
			case c.Violated() && c.Level == result.LevelInfo:
				// INFO is advice (HEALTHCHECK, content trust), not a defect:
				// a failed test case would turn every CI test tab red.
				tc.Skipped = &junitSkipped{Message: "INFO, not a failure: " + strings.Join(c.Alerts, "; ")}
			case c.Violated():
				tc.Failure = &junitFailure{Message: c.Title, Type: c.Level, Body: strings.Join(c.Alerts, "\n")}
			}
			s.add(tc)
		}
		doc.Suites = append(doc.Suites, s)
	}
	if len(r.Secrets) > 0 {
		s := junitSuite{Name: "secrets", Time: "0"}
		for _, sec := range sortedSecrets(r.Secrets) {
			loc := sec.Path
			if sec.Line > 0 {
				loc = fmt.Sprintf("%s:%d", sec.Path, sec.Line)
			}
			tc := junitCase{Name: fmt.Sprintf("[%s] %s %s", strings.ToUpper(sec.Severity), sec.Rule, loc), Classname: "secrets", Time: "0"}
			if sec.Suppressed != nil {
				tc.Skipped = &junitSkipped{Message: suppressionText(sec.Suppressed)}
			} else {
				tc.Failure = &junitFailure{Message: sec.Title, Type: strings.ToUpper(sec.Severity), Body: loc + ": " + sec.Match}
			}
			s.add(tc)
		}
		doc.Suites = append(doc.Suites, s)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitDetails(f vuln.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Package: %s %s\nFixed: %s\nStatus: %s\n", f.Package.Name, f.Package.Version, orNone(fixedIn(f)), f.FixState)
	if f.Package.Path != "" {
		fmt.Fprintf(&b, "Path: %s\n", f.Package.Path)
	}
	fmt.Fprintf(&b, "Remediation: %s\nMore: %s\n", remediation(f), advisoryURL(f.ID))
	return b.String()
}

func suppressionText(s *vuln.Suppression) string {
	t := "suppressed by " + s.Kind
	if s.Rule != "" {
		t += " " + s.Rule
	}
	if s.Reason != "" {
		t += ": " + s.Reason
	}
	return t
}

// sortedChecks orders all checks by code.
func sortedChecks(cs []result.CheckResult) []result.CheckResult {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b result.CheckResult) int { return strings.Compare(a.Code, b.Code) })
	return out
}
