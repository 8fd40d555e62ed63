package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/scan"
)

// newLintCmd is the Dockle replacement: best-practice checks only, no DB.
func newLintCmd(app *App) *cobra.Command {
	var (
		img       imageFlags
		formats   []string
		output    string
		exitCode  int
		exitLevel string
		ignore    []string
		accept    []string
		policyF   string
		allowlist string
		secretsOn bool
		config    string
	)
	cmd := &cobra.Command{
		Use:   "lint REF",
		Short: "Check image best practices (CIS Docker Benchmark, Dockle rule codes)",
		Long: `Lint runs the best-practice checks of 'vigil image --checks' alone, without the
vulnerability DB: CIS-DI-0001 and 0005..0010, DKL-DI-0001..0006,
DKL-LI-0001..0003 (docs/checks.md). Dockle allow-lists keep working: --ignore takes the same
codes, and the Azure container-scan allow-list's bestPracticeViolations apply.

` + refHelp + `

Exit codes: 0 pass, --exit-code (default 1) when a check fails at --exit-level
or above, 2 the image could not be read.`,
		Example: `  vigil lint docker-archive:app.tar
  vigil lint app:1.0 --exit-level FATAL --ignore CIS-DI-0005 --format sarif=lint.sarif`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindSettings(cmd, app); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			fail := func(err error) error { return &ExitError{Code: ExitScanFailed, Err: err} }
			if err := img.validate(); err != nil {
				return fail(err)
			}
			level, err := policy.ParseCheckLevel(exitLevel)
			if err != nil || level == "" {
				return fail(fmt.Errorf("--exit-level %q: use INFO, WARN or FATAL", exitLevel))
			}
			if err := checkExitCode(exitCode); err != nil {
				return fail(err)
			}
			sf := scanFlags{exitCode: exitCode, policyFile: policyF, allowlist: allowlist}
			specs, err := outputSpecs(formats, output)
			if err != nil {
				return fail(err)
			}
			if err := refuseOverwriteImage(specs, args[0]); err != nil {
				return fail(err)
			}
			pol, err := sf.loadPolicy()
			if err != nil {
				return fail(err)
			}
			opts := scan.Options{
				Image:       img.options(app),
				ToolVersion: BuildVersion(),
			}
			opts.Checks = true
			opts.CheckOptions = checks.Options{Tag: image.RegistryTag(args[0]), Ignore: ignore, AcceptKeys: accept, ContentTrust: app.Getenv("DOCKER_CONTENT_TRUST") == "1"}
			opts.Secrets = secretsOn
			opts.Policy = pol
			opts.Gate.CheckLevel = level
			r, err := scan.Image(cmd.Context(), args[0], opts)
			if err != nil {
				return fail(err)
			}
			sayImageSource(app, false, args[0], r.Artifact.Source)
			return sf.finish(cmd.Context(), app, &prepared{specs: specs}, r)
		},
	}
	img.register(cmd, app)
	fl := cmd.Flags()
	fl.StringArrayVarP(&formats, "format", "f", []string{"table"}, "output format, repeatable; FORMAT=FILE writes to a file")
	fl.StringVarP(&output, "output", "o", "", "write the standard-output format to this file instead")
	fl.IntVar(&exitCode, "exit-code", ExitPolicy, "exit code when a check fails at --exit-level or above")
	fl.StringVar(&exitLevel, "exit-level", result.LevelWarn, "lowest failing level: INFO, WARN or FATAL")
	fl.StringArrayVarP(&ignore, "ignore", "i", nil, "skip this check code, repeatable (Dockle's -i)")
	fl.StringArrayVar(&accept, "accept-key", nil, "environment variable or label name CIS-DI-0010 accepts, repeatable (Dockle's --accept-key)")
	fl.StringVar(&policyF, "policy", "", "policy file (default: "+defaultPolicyFile+" when present)")
	fl.StringVar(&allowlist, "allowlist", "", "Azure container-scan allow-list (default: "+defaultAllowlistFile+" when present)")
	fl.BoolVar(&secretsOn, "secrets", false, "also scan layer files for secrets")
	fl.StringVar(&config, "config", "", "config file (VIGIL_CONFIG; default <user config>/vigil/config.yaml)")
	return cmd
}
