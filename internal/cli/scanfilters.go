package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/scan"
)

// Scanners of --scanners, Trivy's names.
const (
	scannerVuln      = "vuln"
	scannerSecret    = "secret"
	scannerMisconfig = "misconfig"
)

// Other scanners' ignore files, read when present like .vigil.yaml.
var (
	defaultTrivyIgnores = []string{".trivyignore", ".trivyignore.yaml"}
	defaultGrypeConfigs = []string{".grype.yaml", ".grype/config.yaml"}
)

// scanFilters are the flags a user of Trivy or Grype brings along: what
// to scan, what to show, which ignore files to read.
type scanFilters struct {
	severities  []string
	skipDirs    []string
	skipFiles   []string
	pkgTypes    []string
	scanners    []string
	ignoreFile  string
	grypeConfig string
	// exitCodeSet: --exit-code was given (on the command line, in the
	// environment or the config file).
	exitCodeSet bool
}

func (f *scanFilters) register(cmd *cobra.Command, image bool) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.severities, "severity", nil, "show only these severities, comma-separated (Trivy's --severity; default: all); hidden findings do not count in the gate")
	fl.StringSliceVar(&f.pkgTypes, "pkg-types", []string{scan.PkgTypeOS, scan.PkgTypeLibrary}, "package types to list and match: os, library")
	fl.StringSliceVar(&f.scanners, "scanners", []string{scannerVuln, scannerSecret, scannerMisconfig}, "what to run: vuln, secret, misconfig (best-practice checks); --secrets=false and --checks=false also turn one off")
	fl.StringVar(&f.ignoreFile, "ignorefile", "", "Trivy ignore file, line form or .yaml (default: "+strings.Join(defaultTrivyIgnores, " and ")+" when present)")
	fl.StringVar(&f.grypeConfig, "grype-config", "", "Grype config whose ignore: rules apply (default: "+strings.Join(defaultGrypeConfigs, " or ")+" when present)")
	if image {
		fl.StringSliceVar(&f.skipDirs, "skip-dirs", nil, "directories not read in any layer, glob patterns with ** (e.g. '**/node_modules'), comma-separated or repeated")
		fl.StringSliceVar(&f.skipFiles, "skip-files", nil, "files not read in any layer, glob patterns with ** (e.g. 'usr/share/doc/**'), comma-separated or repeated")
	}
}

// apply validates the filters and sets them in the scan options.
func (f *scanFilters) apply(p *prepared, threshold string, exitCode int) error {
	for i, s := range f.severities {
		sev, err := policy.ParseSeverity(s)
		if err == nil && sev == "" {
			err = fmt.Errorf("empty severity in %q", strings.Join(f.severities, ","))
		}
		if err != nil {
			return fmt.Errorf("--severity: %w (comma-separated, e.g. --severity HIGH,CRITICAL)", err)
		}
		f.severities[i] = sev
	}
	p.opts.Severities = f.severities
	for _, t := range f.pkgTypes {
		if t != scan.PkgTypeOS && t != scan.PkgTypeLibrary {
			return fmt.Errorf("--pkg-types %q: want os, library or both", t)
		}
	}
	p.opts.PkgTypes = f.pkgTypes
	for _, s := range f.scanners {
		if !slices.Contains([]string{scannerVuln, scannerSecret, scannerMisconfig}, s) {
			return fmt.Errorf("--scanners %q: want vuln, secret, misconfig", s)
		}
	}
	p.opts.Checks = p.opts.Checks && slices.Contains(f.scanners, scannerMisconfig)
	p.opts.Secrets = p.opts.Secrets && slices.Contains(f.scanners, scannerSecret)
	if err := image.ValidateSkips(f.skipDirs, f.skipFiles); err != nil {
		return err
	}
	p.opts.Image.SkipDirs, p.opts.Image.SkipFiles = f.skipDirs, f.skipFiles
	// Trivy: --exit-code without a threshold fails on any shown finding.
	p.opts.Gate.FailOnAny = threshold == "" && f.exitCodeSet && exitCode != 0
	return nil
}

// vulnScan reports whether vulnerability matching runs (it needs the DB).
func (f *scanFilters) vulnScan() bool { return slices.Contains(f.scanners, scannerVuln) }

// ignorePolicies reads the Trivy and Grype ignore files: the named ones,
// else the default files that exist.
func (f *scanFilters) ignorePolicies(load func(path string, defaults []string, fn func(string) (*policy.Policy, error)) error) error {
	if err := load(f.ignoreFile, defaultTrivyIgnores, policy.LoadTrivyIgnore); err != nil {
		return err
	}
	return load(f.grypeConfig, defaultGrypeConfigs, policy.LoadGrypeConfig)
}
