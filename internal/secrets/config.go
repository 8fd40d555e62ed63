package secrets

import (
	"sort"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Paths of secrets found in the image config rather than in a file.
const (
	PathEnv     = "config:Env"
	PathLabels  = "config:Labels"
	PathHistory = "config:History"
	// Cmd, Entrypoint, Healthcheck and OnBuild are scanned as one text each,
	// their arguments joined by spaces.
	PathCmd         = "config:Cmd"
	PathEntrypoint  = "config:Entrypoint"
	PathHealthcheck = "config:Healthcheck"
	PathOnBuild     = "config:OnBuild"
)

// ScanConfig finds secrets in the image config: Env entries, Labels, Cmd,
// Entrypoint, Healthcheck, OnBuild and the build history's created_by
// commands and comments (where Dockerfile ENV, ARG and build arguments of
// RUN steps end up). Line is the 1-based index of the Env, OnBuild or
// History entry; the others have none. A secret already reported for Env
// or Labels, or for an earlier history step, is not repeated. Match names
// the variable or label: "GITHUB_TOKEN=ghp_****".
func ScanConfig(cfg *inventory.ImageConfig) []result.Secret {
	if cfg == nil {
		return nil
	}
	s := defaultScanner()
	var out []result.Secret
	seen := map[string]bool{}
	add := func(path string, line int, name, text string) {
		for _, h := range s.scan([]byte(text), true) {
			key := h.rule.ID + "\x00" + h.secret
			if seen[key] {
				continue
			}
			seen[key] = true
			match := h.display
			if name != "" && !strings.HasPrefix(match, name) && !strings.Contains(name, h.secret) {
				match = printable(name) + "=" + match
			}
			out = append(out, result.Secret{Rule: h.rule.ID, Title: h.rule.Title, Severity: h.rule.Severity,
				Path: path, Line: line, Match: match})
		}
	}
	for i, e := range cfg.Env {
		name, _, _ := strings.Cut(e, "=")
		add(PathEnv, i+1, name, e)
	}
	labels := make([]string, 0, len(cfg.Labels))
	for k := range cfg.Labels {
		labels = append(labels, k)
	}
	sort.Strings(labels)
	for _, k := range labels {
		add(PathLabels, 0, k, k+"="+cfg.Labels[k])
	}
	for _, f := range []struct {
		path string
		args []string
	}{{PathEntrypoint, cfg.Entrypoint}, {PathCmd, cfg.Cmd}, {PathHealthcheck, cfg.Healthcheck}} {
		if len(f.args) > 0 {
			add(f.path, 0, "", strings.Join(f.args, " "))
		}
	}
	for i, o := range cfg.OnBuild {
		add(PathOnBuild, i+1, "", o)
	}
	for i, h := range cfg.History {
		add(PathHistory, i+1, "", h.CreatedBy)
		add(PathHistory, i+1, "", h.Comment)
	}
	return out
}

// FromFacts turns the analyzer's secret facts (Kind "secret") into report
// entries, keeping the layer each was found in. Other facts are ignored.
func FromFacts(facts []inventory.FileFact) []result.Secret {
	var out []result.Secret
	for _, f := range facts {
		if f.Kind != FactKind {
			continue
		}
		s := result.Secret{Rule: f.Rule, Path: f.Path, Line: f.Line, Layer: f.Layer}
		if r := ruleByID(f.Rule); r != nil {
			s.Title, s.Severity = r.Title, r.Severity
			s.Match = strings.TrimPrefix(f.Detail, r.Title+": ")
		} else {
			// A rule this build does not know (a cached result from
			// another version): keep what the fact says.
			s.Title, s.Match, _ = strings.Cut(f.Detail, ": ")
			s.Severity = vuln.SeverityUnknown
		}
		out = append(out, s)
	}
	return out
}
