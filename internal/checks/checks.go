// Package checks owns Vigil's image best-practice rules: the CIS Docker
// Benchmark image rules (CIS-DI-*) and Dockle's own (DKL-DI-*, DKL-LI-*),
// with Dockle's codes, titles and default levels. The rules read the image
// config and history, and the facts and account files that Analyzer
// records during the layer walk.
package checks

import (
	"cmp"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
)

// Options tune a run of the rules.
type Options struct {
	// Tag is the image tag the user asked for ("latest" triggers
	// DKL-DI-0006); "" when unknown or a digest.
	Tag string
	// Ignore lists rule codes to skip entirely.
	Ignore []string
	// ContentTrust is set when Docker Content Trust is enabled
	// (DOCKER_CONTENT_TRUST=1), which passes CIS-DI-0005.
	ContentTrust bool
	// AcceptKeys are ENV, LABEL and build-arg names CIS-DI-0010 accepts
	// (Dockle's --accept-key), compared case-insensitively.
	AcceptKeys []string
}

// Rule describes one best-practice rule.
type Rule struct {
	Code  string
	Title string
	// Level is what a violation is reported as: FATAL, WARN or INFO.
	Level       string
	Description string
	Remediation string
}

// outcome is what a rule found: alerts for a violation, or skip (with a
// reason in alerts) when the image lacks what the rule needs.
type outcome struct {
	alerts []string
	skip   bool
}

func skipped(reason string) outcome { return outcome{alerts: []string{reason}, skip: true} }

type rule struct {
	Rule
	check func(*input) outcome
}

// input is the parsed image the rules look at.
type input struct {
	inv    *inventory.Inventory
	config *inventory.ImageConfig
	steps  []step
	opts   Options
	accept map[string]bool
}

// Rules lists every rule in report order, for SARIF rule help and docs.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = r.Rule
	}
	return out
}

// Run evaluates every rule not ignored and returns one result per rule, in
// Rules order: the rule's level with alerts when violated, PASS when not,
// SKIP when the image lacks what the rule needs (no config, no etc/passwd).
func Run(inv *inventory.Inventory, opts Options) []result.CheckResult {
	out, _ := RunWithWarnings(inv, opts)
	return out
}

// RunWithWarnings is Run that also returns what the rules could not read
// as intended: history steps whose RUN script is not valid shell, whose
// commands came from the fallback splitter.
func RunWithWarnings(inv *inventory.Inventory, opts Options) ([]result.CheckResult, []string) {
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	// The rules judge the config as the image has it; their alerts quote
	// steps and names from it, so every alert is masked with the config's
	// secrets before it leaves (the report prints alerts as they are).
	artifact := inv.Artifact
	artifact.Config = cmp.Or(inv.UnredactedConfig, inv.Artifact.Config)
	_, red := secrets.RedactConfig(artifact.Config)
	in := &input{inv: inv, config: artifact.Config, steps: readHistory(artifact), opts: opts,
		accept: map[string]bool{}}
	for _, k := range opts.AcceptKeys {
		in.accept[strings.ToUpper(strings.TrimSpace(k))] = true
	}
	ignore := map[string]bool{}
	for _, c := range opts.Ignore {
		ignore[strings.ToUpper(strings.TrimSpace(c))] = true
	}
	var out []result.CheckResult
	for _, r := range rules {
		if ignore[r.Code] {
			continue
		}
		o := r.check(in)
		res := result.CheckResult{Code: r.Code, Title: r.Title, Level: result.LevelPass}
		switch {
		case o.skip:
			res.Level = result.LevelSkip
			res.Alerts = o.alerts
		case len(o.alerts) > 0:
			res.Level = r.Level
			res.Alerts = dedupe(o.alerts)
		}
		for i, a := range res.Alerts {
			res.Alerts[i] = red.Text(a)
		}
		out = append(out, res)
	}
	var warnings []string
	for _, s := range in.steps {
		if s.ParseErr != nil {
			warnings = append(warnings, red.Text(fmt.Sprintf("checks: %s: RUN script is not valid shell (%v); its commands were read by the simple splitter", s.Where(), s.ParseErr)))
		}
	}
	return out, warnings
}

// dedupe drops repeated alerts, keeping the first occurrence's order.
func dedupe(alerts []string) []string {
	seen := map[string]bool{}
	out := alerts[:0]
	for _, a := range alerts {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// factsByPath groups the inventory's facts of the given kinds by path, in
// path order.
func (in *input) factsByPath(kinds ...string) ([]string, map[string][]inventory.FileFact) {
	by := map[string][]inventory.FileFact{}
	var paths []string
	for _, f := range in.inv.Files {
		for _, k := range kinds {
			if f.Kind == k {
				if _, ok := by[f.Path]; !ok {
					paths = append(paths, f.Path)
				}
				by[f.Path] = append(by[f.Path], f)
			}
		}
	}
	sort.Strings(paths)
	return paths, by
}

func (in *input) content(p string) ([]byte, bool) {
	b, ok := in.inv.Contents[p]
	return b, ok
}
