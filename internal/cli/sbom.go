package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/scan"
)

// sbomFormats are the formats an inventory can be written in.
var sbomFormats = []string{"json", "cyclonedx-json", "spdx-json", "table"}

func newSbomCmd(app *App) *cobra.Command {
	var (
		img     imageFlags
		formats []string
		output  string
		timeout time.Duration
		quiet   bool
		config  string
	)
	cmd := &cobra.Command{
		Use:   "sbom REF",
		Short: "List every package in an image, layer by layer (SBOM)",
		Long:  "Sbom reads every layer of an image and lists its OS packages and language\nlibraries with the layer that brought each in.\n\n" + refHelp,
		Example: `  vigil sbom alpine:3.20
  vigil sbom docker-archive:app.tar --format cyclonedx-json --output sbom.cdx.json
  vigil sbom oci-layout:./image --format spdx-json=app.spdx.json --format cyclonedx-json=app.cdx.json --format table
  vigil sbom app:1.4 --timeout 10m -q --format cyclonedx-json=sbom.cdx.json   # exit 2, no SBOM, when the time is up`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindSettings(cmd, app); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := outputSpecs(formats, output)
			if err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			for _, s := range spec {
				if !slices.Contains(sbomFormats, s.Format) {
					return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("--format %q: supported: %s", s.Format, strings.Join(sbomFormats, ", "))}
				}
			}
			if err := img.validate(); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			if err := refuseOverwriteImage(spec, args[0]); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			ctx, cancel := withTimeout(cmd.Context(), timeout)
			defer cancel()
			imgOpts := img.options(app)
			progress, stop := startProgress(app, quiet)
			imgOpts.Progress = progress
			inv, err := scan.Inventory(ctx, args[0], scan.Options{Image: imgOpts})
			stop()
			if err != nil {
				return timeoutError(ctx, timeout, err)
			}
			sayImageSource(app, quiet, args[0], inv.Artifact.Source)
			r := inventoryReport(inv)
			if !quiet {
				for _, w := range r.Warnings {
					app.Logger.Warn(w)
				}
			}
			opts := report.Options{SBOMOnly: true, Color: app.color(), Width: app.tableWidth()}
			if err := report.WriteAll(spec, app.Out, r, opts); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			return nil
		},
	}
	img.register(cmd, app)
	cmd.Flags().StringArrayVarP(&formats, "format", "f", []string{"json"}, "output format, repeatable; FORMAT=FILE writes to a file ("+strings.Join(sbomFormats, ", ")+")")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the standard-output format to this file instead")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "stop after this long (e.g. 5m) with exit 2 and no SBOM (default: no limit)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress and no warnings on standard error (the SBOM is still written)")
	cmd.Flags().StringVar(&config, "config", "", "config file (VIGIL_CONFIG; default <user config>/vigil/config.yaml)")
	return cmd
}

// inventoryReport wraps an inventory in a report with no findings, the
// shape the SBOM writers take.
func inventoryReport(inv *inventory.Inventory) *result.Report {
	return &result.Report{
		SchemaVersion: inventory.SchemaVersion,
		Tool:          result.Tool{Name: "vigil", Version: BuildVersion()},
		CreatedAt:     time.Now().UTC(),
		Artifact:      inv.Artifact,
		Packages:      inv.Packages,
		Warnings:      inv.Warnings,
	}
}
