package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
)

func newConvertCmd(app *App) *cobra.Command {
	var (
		formats    []string
		output     string
		dockerfile string
	)
	cmd := &cobra.Command{
		Use:   "convert REPORT.json",
		Short: "Render a saved JSON report in other formats, without scanning again",
		Long: `Convert reads a report written by 'vigil image --format json' (or an inventory
written by 'vigil sbom --format json') and writes it in any format 'vigil image'
writes, with the same --format NAME[=FILE] forms. Nothing is scanned or matched
again: the findings, suppressions and gate are the saved ones, and the exit
code is 0 whatever the saved gate said. An inventory can be converted to the
SBOM formats (` + strings.Join(sbomFormats, ", ") + `).`,
		Example: `  vigil image app:1.4 --format json=report.json
  vigil convert report.json --format sarif=vigil.sarif --format junit=vigil.xml
  vigil convert report.json --format table
  vigil sbom app:1.4 --format json=inv.json && vigil convert inv.json --format spdx-json=app.spdx.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := outputSpecs(formats, output)
			if err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			r, err := readConvertible(args[0])
			if err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			// A saved report may come from an older Vigil or be edited:
			// its config is masked again, as publish does.
			secrets.RedactReport(r)
			opts := report.Options{Dockerfile: dockerfile, Color: app.color(), Width: app.tableWidth()}
			// An inventory has no "vulnerabilities" key at all; a report
			// always has one, empty or not.
			if r.Vulnerabilities == nil {
				opts.SBOMOnly = true
				for _, s := range specs {
					if !slices.Contains(sbomFormats, s.Format) {
						return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("%s is an inventory, not a report: --format %s needs findings (inventory formats: %s)", args[0], s.Format, strings.Join(sbomFormats, ", "))}
					}
				}
			}
			if err := report.WriteAll(specs, app.Out, r, opts); err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&formats, "format", "f", []string{"table"}, "output format, repeatable; FORMAT=FILE writes to a file ("+strings.Join(report.Formats(), ", ")+")")
	fl.StringVarP(&output, "output", "o", "", "write the standard-output format to this file instead")
	fl.StringVar(&dockerfile, "dockerfile", "", "Dockerfile that built the image; SARIF results point at it")
	return cmd
}

// readConvertible reads a saved report and checks it is one this Vigil
// renders: written by Vigil, in the current major schema.
func readConvertible(path string) (*result.Report, error) {
	r, err := readReport(path)
	if err != nil {
		return nil, err
	}
	if r.Tool.Name != "vigil" {
		return nil, fmt.Errorf("%s: not a Vigil JSON report (tool %q); write one with vigil image --format json", path, r.Tool.Name)
	}
	if major, _, _ := strings.Cut(r.SchemaVersion, "."); major != strings.Split(result.SchemaVersion, ".")[0] {
		return nil, fmt.Errorf("%s: report schema %s, this Vigil reads %s", path, r.SchemaVersion, result.SchemaVersion)
	}
	return r, nil
}
