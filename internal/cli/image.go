package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/publish"
	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/sbomin"
	"github.com/vigil-scan/vigil/internal/scan"
	"github.com/vigil-scan/vigil/internal/secrets"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// imageOnlyFlags are the flags of `vigil image` that need an image, not an
// SBOM.
var imageOnlyFlags = []string{"username", "password", "insecure-registry", "platform", "cache-dir", "no-cache", "cache-max-size",
	"max-layer-size", "checks", "check-threshold", "ignore-check", "accept-key", "secrets", "fail-on-secrets", "dockerfile"}

// staleDBAge is when a DB is old enough to warn about: feeds publish daily.
const staleDBAge = 7 * 24 * time.Hour

// Default exception files, read when present and not overridden, so a
// repository that used Azure/container-scan keeps its allow-list.
const (
	defaultPolicyFile    = ".vigil.yaml"
	defaultAllowlistFile = ".github/containerscan/allowedlist.yaml"
)

// scanFlags are the flags of `vigil image` and `vigil sbom-scan`.
type scanFlags struct {
	img imageFlags
	// sbomMaxPackages bounds the packages of an SBOM (sbom-scan, sbom:FILE).
	sbomMaxPackages int
	db              dbFlags
	formats         []string
	output          string
	threshold       string
	exitCode        int
	ignoreUnfixed   bool
	onlyFixed       bool
	policyFile      string
	allowlist       string
	vex             []string
	dockerfile      string
	checks          bool
	checkThreshold  string
	ignoreChecks    []string
	acceptKeys      []string
	secrets         bool
	failOnSecrets   bool
	failOnUnsup     bool
	publish         bool
	pub             publishFlags
	filters         scanFilters
	timeout         time.Duration
	quiet           bool
	dbAuto          dbAutoFlags
}

func (f *scanFlags) register(cmd *cobra.Command, app *App, image bool) {
	fl := cmd.Flags()
	f.db.register(cmd, app)
	f.dbAuto.register(cmd, app)
	fl.StringArrayVarP(&f.formats, "format", "f", []string{"table"}, "output format, repeatable; FORMAT=FILE writes to a file ("+strings.Join(report.Formats(), ", ")+")")
	fl.StringVarP(&f.output, "output", "o", "", "write the standard-output format to this file instead")
	fl.StringVar(&f.threshold, "severity-threshold", app.Getenv("VIGIL_SEVERITY_THRESHOLD"), "fail when an unsuppressed vulnerability has this severity or higher: UNKNOWN, NEGLIGIBLE, LOW, MEDIUM, HIGH, CRITICAL (VIGIL_SEVERITY_THRESHOLD; default: never fail)")
	fl.IntVar(&f.exitCode, "exit-code", ExitPolicy, "exit code when the gate fails")
	fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "hide vulnerabilities that have no fixed version yet")
	fl.BoolVar(&f.onlyFixed, "only-fixed", false, "same as --ignore-unfixed")
	fl.StringVar(&f.policyFile, "policy", "", "policy file with exceptions (default: "+defaultPolicyFile+" when present)")
	fl.StringVar(&f.allowlist, "allowlist", "", "Azure container-scan allow-list (default: "+defaultAllowlistFile+" when present)")
	fl.StringArrayVar(&f.vex, "vex", nil, "OpenVEX or CycloneDX VEX document, repeatable")
	fl.StringVar(&f.dockerfile, "dockerfile", "", "Dockerfile that built the image; SARIF results point at it")
	fl.BoolVar(&f.secrets, "secrets", true, "scan layer files and the image config for secrets")
	fl.BoolVar(&f.failOnSecrets, "fail-on-secrets", false, "fail the gate when an unsuppressed secret is found")
	fl.BoolVar(&f.failOnUnsup, "fail-on-unsupported", false, "fail the gate when part of the image could not be judged: an OS release or ecosystem the DB has no data for, an end-of-life release, a feed whose last update failed")
	fl.BoolVar(&f.publish, "publish", false, "send the results to the Vigil server (--server, --token)")
	fl.IntVar(&f.sbomMaxPackages, "sbom-max-packages", sbomin.DefaultMaxPackages, "refuse an SBOM (sbom-scan, sbom:FILE) that lists more packages: the scan holds about 250 bytes per package (VIGIL_SBOM_MAX_PACKAGES)")
	if image {
		f.img.register(cmd, app)
		fl.BoolVar(&f.checks, "checks", true, "run best-practice checks (CIS Docker Benchmark, Dockle codes)")
		fl.StringVar(&f.checkThreshold, "check-threshold", "", "fail when a check is violated at this level or higher: INFO, WARN, FATAL (default: never fail)")
		fl.StringArrayVar(&f.ignoreChecks, "ignore-check", nil, "skip this check code, repeatable")
		fl.StringArrayVar(&f.acceptKeys, "accept-key", nil, "environment variable or label name CIS-DI-0010 accepts, repeatable (Dockle's --accept-key)")
	}
	f.pub.register(cmd, app)
	f.filters.register(cmd, image)
	cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "stop the scan after this long (e.g. 5m) with exit 2 and no report (default: no limit)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress and no warnings on standard error (reports and the gate's reasons are still written)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := bindSettings(cmd, app); err != nil {
			return &ExitError{Code: ExitScanFailed, Err: err}
		}
		f.filters.exitCodeSet = cmd.Flags().Changed("exit-code")
		return nil
	}
}

// prepared is what a scan needs once the flags are validated.
type prepared struct {
	specs    []report.FormatSpec
	warnings []string // about the inputs, added to the report
	opts     scan.Options
	db       *vulndb.DB
}

func (p *prepared) Close() {
	if p.db != nil {
		p.db.Close()
	}
}

// prepare validates every flag and opens every input before the scan
// starts, so a typo fails in milliseconds, not after a registry pull.
func (f *scanFlags) prepare(app *App) (*prepared, error) {
	specs, err := outputSpecs(f.formats, f.output)
	if err != nil {
		return nil, err
	}
	gate := policy.GateOptions{IgnoreUnfixed: f.ignoreUnfixed, OnlyFixed: f.onlyFixed, FailOnSecrets: f.failOnSecrets, FailOnUnsupported: f.failOnUnsup}
	if f.threshold != "" {
		if gate.Threshold, err = policy.ParseSeverity(f.threshold); err != nil {
			return nil, fmt.Errorf("--severity-threshold: %w", err)
		}
	}
	if gate.CheckLevel, err = policy.ParseCheckLevel(f.checkThreshold); err != nil {
		return nil, fmt.Errorf("--check-threshold: %w", err)
	}
	if err := checkExitCode(f.exitCode); err != nil {
		return nil, err
	}
	pol, err := f.loadPolicy()
	if err != nil {
		return nil, err
	}
	if f.publish {
		if f.pub.Server == "" {
			return nil, errors.New("--publish needs --server or VIGIL_SERVER")
		}
		if _, err := publish.Endpoint(f.pub.Server); err != nil {
			return nil, fmt.Errorf("--server: %w", err)
		}
	}
	p := &prepared{specs: specs}
	p.opts = scan.Options{
		Image:       f.img.options(app),
		ToolVersion: BuildVersion(),
		Extras: scan.Extras{
			Checks:        f.checks,
			CheckOptions:  checks.Options{Ignore: f.ignoreChecks, AcceptKeys: f.acceptKeys, ContentTrust: app.Getenv("DOCKER_CONTENT_TRUST") == "1"},
			Secrets:       f.secrets,
			SecretOptions: secrets.Options{},
			Policy:        pol,
			Gate:          gate,
		},
	}
	if err := f.filters.apply(p, gate.Threshold, f.exitCode); err != nil {
		return nil, err
	}
	if !f.filters.vulnScan() {
		return p, nil
	}
	if err := f.dbAuto.ensure(context.Background(), app, f.db, f.quiet); err != nil {
		return nil, err
	}
	db, dbNotes, err := f.db.openChecked(app)
	if err != nil {
		return nil, err
	}
	if err := refuseOverwrite(specs, db.Path(), "the vulnerability DB this scan reads"); err != nil {
		db.Close()
		return nil, err
	}
	p.db = db
	p.opts.DBNotJudged = dbNotes
	meta := db.Metadata()
	if age := time.Since(meta.Built); age > staleDBAge {
		p.warnings = append(p.warnings, fmt.Sprintf("vulnerability DB built %s (%d days ago): findings published since are missing; run `vigil db update`",
			meta.Built.Format(time.DateOnly), int(age.Hours()/24)))
	}
	p.opts.Matcher = match.New(db, match.Options{IgnoreUnfixed: f.ignoreUnfixed || f.onlyFixed})
	p.opts.DB = &result.DBInfo{SchemaVersion: meta.SchemaVersion, Built: meta.Built, Path: db.Path()}
	return p, nil
}

// outputSpecs parses the --format values; --output names the file of the
// one format that would go to standard output. Every output file is
// checked for writability before any scan work.
func outputSpecs(formats []string, output string) ([]report.FormatSpec, error) {
	specs, err := report.ParseFormatSpecs(formats)
	if err != nil {
		return nil, err
	}
	if output != "" {
		found := false
		for i := range specs {
			if specs[i].Path == "" {
				specs[i].Path, found = output, true
			}
		}
		if !found {
			return nil, errors.New("--output needs a format that writes to standard output (every --format has its own file)")
		}
	}
	if err := report.CheckWritable(specs); err != nil {
		return nil, err
	}
	return specs, nil
}

// loadPolicy reads the policy file, allow-list and VEX documents; the
// default files are read only when present.
func (f *scanFlags) loadPolicy() (*policy.Policy, error) {
	var all []*policy.Policy
	load := func(path string, defaults []string, fn func(string) (*policy.Policy, error)) error {
		paths := []string{path}
		if path == "" {
			paths = nil
			for _, def := range defaults {
				if _, err := os.Stat(def); err == nil {
					paths = append(paths, def)
				}
			}
		}
		for _, path := range paths {
			p, err := fn(path)
			if err != nil {
				return err
			}
			all = append(all, p)
		}
		return nil
	}
	if err := load(f.policyFile, []string{defaultPolicyFile}, policy.LoadFile); err != nil {
		return nil, err
	}
	if err := load(f.allowlist, []string{defaultAllowlistFile}, policy.LoadAllowlist); err != nil {
		return nil, err
	}
	if err := f.filters.ignorePolicies(load); err != nil {
		return nil, err
	}
	for _, v := range f.vex {
		p, err := policy.LoadVEX(v)
		if err != nil {
			return nil, err
		}
		all = append(all, p)
	}
	if len(all) == 0 {
		return nil, nil
	}
	return policy.Merge(all...), nil
}

// finish writes every output, publishes, and turns the gate into the exit code.
func (f *scanFlags) finish(ctx context.Context, app *App, p *prepared, r *result.Report) error {
	opts := report.Options{Dockerfile: f.dockerfile, Color: app.color(), Width: app.tableWidth()}
	r.Warnings = append(p.warnings, r.Warnings...)
	for _, w := range r.Warnings {
		if !f.quiet {
			app.Logger.Warn(w)
		}
	}
	if err := report.WriteAll(p.specs, app.Out, r, opts); err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	if f.publish {
		if err := publishReport(ctx, app, f.pub, r); err != nil {
			return err
		}
	}
	if g := r.Summary.Gate; g != nil && g.Failed {
		fmt.Fprintln(app.Err, "vigil: gate failed:")
		for _, reason := range g.Reasons {
			fmt.Fprintln(app.Err, "  -", reason)
		}
		return &ExitError{Code: f.exitCode}
	}
	return nil
}

func newImageCmd(app *App) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "image REF",
		Short: "Scan an image: packages, vulnerabilities, best practices, secrets; gate the build",
		Long: `Image reads every layer of an image, matches its packages against the local
vulnerability DB, runs the best-practice checks and secret detection, applies
the exceptions (.vigil.yaml, Azure container-scan allow-list, .trivyignore,
.grype.yaml, VEX) and writes the results in one or more formats.

Every flag can also be set in the environment (VIGIL_<FLAG>, e.g.
VIGIL_SEVERITY_THRESHOLD) or under scan: in the config file; a flag wins over
the environment, which wins over the file (docs/configuration.md).

` + refHelp + `
sbom:FILE scans a CycloneDX or SPDX SBOM (JSON, XML or tag-value) instead of an image.

Exit codes: 0 pass, 1 (or --exit-code) the gate failed, 2 the scan could not run.`,
		Example: `  vigil image alpine:3.20
  vigil image docker-archive:app.tar --severity-threshold HIGH --ignore-unfixed
  vigil image registry.example.com/app:1.4 --format table --format sarif=vigil.sarif --format junit=vigil.xml
  vigil image app:1.4 --severity HIGH,CRITICAL --exit-code 1          # Trivy: show only these, fail on any shown
  vigil image app:1.4 --skip-dirs '**/node_modules' --skip-files 'usr/share/doc/**' --pkg-types os --scanners vuln
  vigil image app:1.4 --ignorefile .trivyignore --grype-config .grype.yaml
  vigil image app:1.4 --timeout 10m -q                                 # exit 2, no report, when the time is up
  VIGIL_SEVERITY_THRESHOLD=HIGH vigil image app:1.4                    # every flag: VIGIL_<FLAG>, or scan: in the config file
  docker build -t app:ci . && vigil image app:ci                       # local daemons first (docker, podman), then the registry
  vigil image docker:app:ci                                            # only the Docker daemon (DOCKER_HOST or the current context)
  vigil image podman:localhost/app:ci                                  # Podman's API socket (CONTAINER_HOST)
  vigil image app:1.4 --image-src remote                               # skip the daemons
  vigil image ./app.tar                                                # docker save or OCI archive, told apart by content
  vigil image app:1.4 --db-repository oci://registry.example.com/sec/vigil-db:1   # first run downloads the DB from there
  vigil image alpine:3.20 --severity-threshold HIGH --fail-on-unsupported   # also fail when the DB cannot judge the image`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := args[0]
			if file, ok := strings.CutPrefix(ref, "sbom:"); ok {
				// An SBOM has no layers: say so rather than drop these silently.
				for _, name := range imageOnlyFlags {
					if cmd.Flags().Changed(name) {
						fmt.Fprintf(app.Err, "vigil: warning: --%s does not apply to an SBOM (sbom:%s) and is ignored\n", name, file)
					}
				}
				return runSbomScan(cmd.Context(), app, &f, file)
			}
			if err := f.img.validate(); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			p, err := f.prepare(app)
			if err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			defer p.Close()
			if err := refuseOverwriteImage(p.specs, ref); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			p.opts.CheckOptions.Tag = image.RegistryTag(ref)
			ctx, cancel := withTimeout(cmd.Context(), f.timeout)
			defer cancel()
			progress, stop := startProgress(app, f.quiet)
			p.opts.Image.Progress = progress
			r, err := scan.Image(ctx, ref, p.opts)
			stop()
			if err != nil {
				return timeoutError(ctx, f.timeout, err)
			}
			sayImageSource(app, f.quiet, ref, r.Artifact.Source)
			return f.finish(cmd.Context(), app, p, r)
		},
	}
	f.register(cmd, app, true)
	return cmd
}
