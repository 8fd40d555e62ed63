package cli

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/sbomin"
	"github.com/vigil-scan/vigil/internal/scan"
)

func newSbomScanCmd(app *App) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "sbom-scan FILE",
		Short: "Match an existing CycloneDX or SPDX SBOM against the vulnerability DB",
		Long: `Sbom-scan reads an SBOM (CycloneDX 1.2-1.7 JSON or XML, SPDX 2.1-2.3 JSON or
tag-value), rebuilds the package list from the package URLs and matches it
like 'vigil image' does, without the image. 'vigil image sbom:FILE' is the
same. Checks need the image and are not run.`,
		Example: `  vigil sbom docker-archive:app.tar --format cyclonedx-json -o app.cdx.json
  vigil sbom-scan app.cdx.json --severity-threshold HIGH`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSbomScan(cmd.Context(), app, &f, args[0])
		},
	}
	f.register(cmd, app, false)
	return cmd
}

func runSbomScan(ctx context.Context, app *App, f *scanFlags, file string) error {
	f.checks = false
	p, err := f.prepare(app)
	if err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	defer p.Close()
	if err := refuseOverwriteImage(p.specs, file); err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	ctx, cancel := withTimeout(ctx, f.timeout)
	defer cancel()
	inv, err := sbomin.ReadFile(ctx, file)
	if err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	if inv.Artifact.Name == "" {
		inv.Artifact.Name = "sbom:" + file
	}
	// An SBOM has no layer files: only the config-level secret scan could
	// run, and there is no config either.
	p.opts.Secrets = false
	r, err := scan.Evaluate(ctx, inv, p.opts)
	if err != nil {
		return timeoutError(ctx, f.timeout, err)
	}
	return f.finish(ctx, app, p, r)
}
