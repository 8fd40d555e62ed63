package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// SARIF 2.1.0 is written with hand-made types: the subset GitHub code
// scanning reads is small, and no SARIF library is in go.mod.

const (
	sarifSchema         = "https://json.schemastore.org/sarif-2.1.0.json"
	vigilInformationURI = "https://github.com/vigil-scan/vigil"
	maxFullDescription  = 1024
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	HelpURI              string         `json:"helpUri,omitempty"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifRuleLevel `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifRuleLevel struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision,omitempty"`
	Tags             []string `json:"tags"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// sarifBuilder collects rules once per id and results in report order.
type sarifBuilder struct {
	rules   []sarifRule
	index   map[string]int
	results []sarifResult
	uri     string
	steps   []dockerStep
}

func writeSARIF(w io.Writer, r *result.Report, opts Options) error {
	b := &sarifBuilder{index: map[string]int{}, uri: imageURI(artifactName(r.Artifact))}
	if opts.Dockerfile != "" {
		b.uri = filepath.ToSlash(filepath.Clean(opts.Dockerfile))
		b.steps = readDockerfile(opts.Dockerfile)
	}
	for _, f := range sortedFindings(r.Vulnerabilities) {
		if f.Suppressed == nil {
			b.addFinding(f)
		}
	}
	for _, c := range violatedChecks(r.Checks) {
		if c.Suppressed == nil {
			b.addCheck(c)
		}
	}
	for _, s := range sortedSecrets(r.Secrets) {
		if s.Suppressed == nil {
			b.addSecret(s)
		}
	}
	log := sarifLog{
		Schema:  sarifSchema,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name: "Vigil", Version: r.Tool.Version, InformationURI: vigilInformationURI,
				Rules: nonNil(b.rules),
			}},
			Invocations: sarifInvocations(r),
			Results:     nonNil(b.results),
		}},
	}
	return encodeIndented(w, log, "  ")
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var unsafeURIChars = regexp.MustCompile(`[^A-Za-z0-9._/-]+`)

// imageURI is the artifact location used when no Dockerfile is given: a
// relative path GitHub accepts, "image/alpine_3.10".
func imageURI(name string) string {
	s := strings.Trim(unsafeURIChars.ReplaceAllString(name, "_"), "/")
	return "image/" + strings.ReplaceAll(s, "..", "_")
}

func (b *sarifBuilder) rule(r sarifRule) int {
	if i, ok := b.index[r.ID]; ok {
		return i
	}
	b.index[r.ID] = len(b.rules)
	b.rules = append(b.rules, r)
	return len(b.rules) - 1
}

func (b *sarifBuilder) location(layer *inventory.LayerRef) []sarifLocation {
	line := 1
	if b.steps != nil && layer != nil {
		if l := stepLine(b.steps, layer.CreatedBy); l > 0 {
			line = l
		} else if l := lastFromLine(b.steps); l > 0 && layer.Base {
			// Base-image layers come from the final stage's FROM.
			line = l
		}
	}
	return []sarifLocation{{PhysicalLocation: sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: b.uri}, Region: sarifRegion{StartLine: line},
	}}}
}

func sarifLevel(sev string) string {
	switch sev {
	case vuln.SeverityCritical, vuln.SeverityHigh:
		return "error"
	case vuln.SeverityMedium:
		return "warning"
	}
	return "note"
}

func fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

func scoreString(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) }

func (b *sarifBuilder) addFinding(f vuln.Finding) {
	score := securityScore(f)
	short := title(f)
	full := f.Description
	if full == "" {
		full = short
	}
	help := findingHelp(f)
	idx := b.rule(sarifRule{
		ID:                   f.ID,
		Name:                 "Vulnerability",
		ShortDescription:     sarifText{Text: truncate(short, maxFullDescription)},
		FullDescription:      sarifText{Text: truncate(oneLine(full), maxFullDescription)},
		HelpURI:              advisoryURL(f.ID),
		Help:                 help,
		DefaultConfiguration: sarifRuleLevel{Level: sarifLevel(f.Severity)},
		Properties: sarifRuleProps{
			SecuritySeverity: scoreString(score),
			Precision:        "very-high",
			Tags:             []string{"vulnerability", "security", f.Severity},
		},
	})
	msg := fmt.Sprintf("Package: %s\nInstalled Version: %s\nVulnerability: %s\nSeverity: %s\nFixed Version: %s",
		f.Package.Name, f.Package.Version, f.ID, f.Severity, orNone(fixedIn(f)))
	if f.Package.Path != "" {
		msg += "\nPath: " + f.Package.Path
	}
	if f.Layer != nil {
		msg += "\nLayer: " + shortDiffID(f.Layer.DiffID)
		if f.Layer.CreatedBy != "" {
			msg += " (" + truncate(oneLine(f.Layer.CreatedBy), 200) + ")"
		}
	}
	b.results = append(b.results, sarifResult{
		RuleID: f.ID, RuleIndex: idx, Level: sarifLevel(f.Severity),
		Message:   sarifText{Text: msg},
		Locations: b.location(f.Layer),
		PartialFingerprints: map[string]string{
			"primaryLocationLineHash": fingerprint(f.ID, f.Package.Name, f.Package.Version, f.Package.Path),
		},
	})
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// findingHelp is the rule help: remediation and references, as text and markdown.
func findingHelp(f vuln.Finding) sarifText {
	var t, m strings.Builder
	fmt.Fprintf(&t, "Vulnerability %s\nSeverity: %s\nPackage: %s\nFixed Version: %s\nRemediation: %s\n",
		f.ID, f.Severity, f.Package.Name, orNone(fixedIn(f)), remediation(f))
	fmt.Fprintf(&m, "**Vulnerability [%s](%s)**\n\n| Severity | Package | Fixed Version |\n| --- | --- | --- |\n| %s | %s | %s |\n\n**Remediation:** %s\n",
		f.ID, advisoryURL(f.ID), f.Severity, mdCell(f.Package.Name), mdCell(orNone(fixedIn(f))), mdCell(remediation(f)))
	if len(f.References) > 0 {
		t.WriteString("References:\n")
		m.WriteString("\n**References**\n\n")
		for i, ref := range f.References {
			if i == 20 {
				break
			}
			t.WriteString("  " + ref + "\n")
			m.WriteString("- " + ref + "\n")
		}
	}
	return sarifText{Text: t.String(), Markdown: m.String()}
}

// checkSeverity maps a check level to the severity SARIF scores it as.
func checkSeverity(level string) string {
	switch level {
	case result.LevelFatal:
		return vuln.SeverityHigh
	case result.LevelWarn:
		return vuln.SeverityMedium
	}
	return vuln.SeverityLow
}

func (b *sarifBuilder) addCheck(c result.CheckResult) {
	sev := checkSeverity(c.Level)
	alerts := strings.Join(c.Alerts, "\n")
	idx := b.rule(sarifRule{
		ID:                   c.Code,
		Name:                 "BestPractice",
		ShortDescription:     sarifText{Text: truncate(oneLine(c.Title), maxFullDescription)},
		FullDescription:      sarifText{Text: truncate(oneLine(c.Title), maxFullDescription)},
		Help:                 sarifText{Text: c.Title + "\n" + alerts, Markdown: "**" + mdCell(c.Title) + "**\n\n" + alerts},
		DefaultConfiguration: sarifRuleLevel{Level: sarifLevel(sev)},
		Properties: sarifRuleProps{
			SecuritySeverity: scoreString(representativeScore(sev)),
			Tags:             []string{"best-practice", "security", c.Level},
		},
	})
	msg := c.Code + ": " + c.Title
	if alerts != "" {
		msg += "\n" + alerts
	}
	b.results = append(b.results, sarifResult{
		RuleID: c.Code, RuleIndex: idx, Level: sarifLevel(sev),
		Message:             sarifText{Text: msg},
		Locations:           b.location(nil),
		PartialFingerprints: map[string]string{"primaryLocationLineHash": fingerprint(c.Code, alerts)},
	})
}

func (b *sarifBuilder) addSecret(s result.Secret) {
	sev := strings.ToUpper(s.Severity)
	if vuln.SeverityRank(sev) == 0 {
		sev = vuln.SeverityUnknown
	}
	id := "secret/" + s.Rule
	idx := b.rule(sarifRule{
		ID:                   id,
		Name:                 "Secret",
		ShortDescription:     sarifText{Text: truncate(oneLine(orNone(s.Title)), maxFullDescription)},
		FullDescription:      sarifText{Text: truncate(oneLine("A secret matching rule "+s.Rule+" ("+s.Title+") was found in the image."), maxFullDescription)},
		Help:                 sarifText{Text: "Remove the secret from the image and rotate it.", Markdown: "Remove the secret from the image and **rotate it**."},
		DefaultConfiguration: sarifRuleLevel{Level: sarifLevel(sev)},
		Properties: sarifRuleProps{
			SecuritySeverity: scoreString(representativeScore(sev)),
			Tags:             []string{"secret", "security", sev},
		},
	})
	loc := s.Path
	if s.Line > 0 {
		loc += ":" + strconv.Itoa(s.Line)
	}
	b.results = append(b.results, sarifResult{
		RuleID: id, RuleIndex: idx, Level: sarifLevel(sev),
		Message:             sarifText{Text: fmt.Sprintf("Secret %s in %s: %s", s.Rule, loc, s.Match)},
		Locations:           b.location(s.Layer),
		PartialFingerprints: map[string]string{"primaryLocationLineHash": fingerprint(id, s.Path, strconv.Itoa(s.Line))},
	})
}
