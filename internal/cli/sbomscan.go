package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

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
	if f.sbomMaxPackages <= 0 {
		return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("--sbom-max-packages %d: must be a positive number of packages", f.sbomMaxPackages)}
	}
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
	defer limitMemory(app)()
	inv, err := sbomin.ReadFile(sbomin.WithMaxPackages(ctx, f.sbomMaxPackages), file)
	if errors.Is(err, sbomin.ErrTooManyPackages) {
		err = fmt.Errorf("%w (--sbom-max-packages or VIGIL_SBOM_MAX_PACKAGES raises the limit)", err)
	}
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

// sbomMemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit)
// of a scan of an SBOM: its packages are most of the heap, and near the
// SBOM size cap (sbomin.MaxBytes) the garbage collector's default of
// letting the heap grow to twice what is live took the process past
// 256 MB. Under the limit the collector runs more often instead (a
// 250 MB SBOM costs about twice the CPU time; docs/performance.md). An
// SBOM whose packages alone need more than the limit still scans: the
// limit is soft.
const sbomMemoryLimit = 180 << 20

// limitMemory sets sbomMemoryLimit unless the user set GOMEMLIMIT, and
// returns what restores the previous limit.
func limitMemory(app *App) (restore func()) {
	if app.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(sbomMemoryLimit)
	return func() { debug.SetMemoryLimit(prev) }
}
