package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// foreignFlags maps flags users bring from Trivy, Grype and
// Azure/container-scan scripts to what Vigil calls them, so a copied CI
// line fails with the fix instead of a bare "unknown flag".
var foreignFlags = map[string]string{
	"input":           "Trivy's --input PATH is the argument here: vigil image PATH (a docker save tar, OCI archive or layout; docker-archive:PATH to be explicit)",
	"no-progress":     "progress goes to standard error only; -q/--quiet turns it (and warnings) off",
	"vuln-type":       "Trivy's --vuln-type is --pkg-types here (os, library)",
	"fail-on":         "Grype's --fail-on SEVERITY is --severity-threshold SEVERITY here",
	"scope":           "Vigil always reads every layer and reports the files the final image holds (Grype's default squashed scope)",
	"list-all-pkgs":   "the JSON report always lists every package (packages[]); vigil sbom IMAGE lists them alone",
	"offline-scan":    "scans never go online except to pull the image; --skip-db-update fails instead of fetching a first DB",
	"output-file":     "use --format FORMAT=FILE (repeatable) or -o FILE",
	"ignore-policy":   "Rego policies are not supported; exceptions live in .vigil.yaml (--policy), .trivyignore (--ignorefile) or .grype.yaml (--grype-config)",
	"dependency-tree": "not supported; each package lists the layer that brought it in",
	"template":        "Go templates are not supported; see --format for the built-in formats (table, json, sarif, junit, gitlab, markdown, …)",
}

// flagError turns pflag's "unknown flag: --x" into a message that says
// what to type: the Trivy/Grype equivalent, or the nearest flag name.
func flagError(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	}
	if hint, ok := foreignFlags[name]; ok && cmd.Flags().Lookup(name) == nil {
		return fmt.Errorf("%w: %s", err, hint)
	}
	if near := nearestFlag(cmd, name); near != "" {
		return fmt.Errorf("%w: did you mean --%s? (see %s --help)", err, near, cmd.CommandPath())
	}
	return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
}

// nearestFlag is the command's flag closest to name by edit distance,
// when it is close enough to be a typo.
func nearestFlag(cmd *cobra.Command, name string) string {
	best, bestDist := "", 3
	if len(name) <= 4 {
		bestDist = 2
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance (flag names are short ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
