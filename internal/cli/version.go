package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-scan/vigil/internal/version"
)

// maxCompareLine bounds one stdin line of "vigil version compare ECO -".
const maxCompareLine = 4096

func newVersionCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print Vigil's version, or compare package versions",
		Long: `Print Vigil's version: the release version of a release binary or image; the
module version for "go install ...@vX.Y.Z"; "devel+COMMIT (TIME[, modified])"
for a build from a git checkout.`,
		Example: `  vigil version            # v1.4.0, or devel+0123abcd4567 (2026-12-06T18:00:00Z)`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(app.Out, BuildVersion())
			return err
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "compare ECOSYSTEM V1 V2 | compare ECOSYSTEM -",
		Short: "Compare two versions under an ecosystem's rules; prints <, = or >",
		Long: `Compare two versions the way the ecosystem's package manager does, like
dpkg --compare-versions. ECOSYSTEM is an OSV name (Debian:12, PyPI, Go, ...) or
one of apk deb rpm pypi maven npm cargo nuget rubygems go packagist hex pub semver.
With "-", reads "V1 V2" pairs from stdin and prints one result per line.
An unknown ecosystem or a version the rules cannot parse exits with code 2.`,
		Example: `  vigil version compare deb 1:1.2-1 1.3-1          # >
  vigil version compare apk 1.1.1d-r2 1.1.1d-r0     # >
  printf '1.0 1.0.0\n2.0a1 2.0\n' | vigil version compare pypi -`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersionCompare(app, args)
		},
	})
	return cmd
}

func runVersionCompare(app *App, args []string) error {
	fail := func(err error) error { return &ExitError{Code: ExitScanFailed, Err: err} }
	cmp, err := version.For(args[0])
	if err != nil {
		return fail(err)
	}
	switch {
	case len(args) == 3:
		op, err := compareOp(cmp, args[1], args[2])
		if err != nil {
			return fail(err)
		}
		_, err = fmt.Fprintln(app.Out, op)
		return err
	case args[1] == "-":
		return compareStream(app, cmp, fail)
	}
	return fail(fmt.Errorf("version compare: want ECOSYSTEM V1 V2, or ECOSYSTEM - to read pairs from stdin"))
}

func compareStream(app *App, cmp version.Comparator, fail func(error) error) error {
	sc := bufio.NewScanner(app.In)
	sc.Buffer(make([]byte, 0, 1024), maxCompareLine)
	out := bufio.NewWriter(app.Out)
	defer out.Flush()
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return fail(fmt.Errorf("stdin line %d: want \"V1 V2\", got %q", n, line))
		}
		op, err := compareOp(cmp, f[0], f[1])
		if err != nil {
			return fail(fmt.Errorf("stdin line %d: %w", n, err))
		}
		if _, err := fmt.Fprintln(out, op); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		return fail(fmt.Errorf("reading stdin: %w", err))
	}
	return nil
}

func compareOp(cmp version.Comparator, a, b string) (string, error) {
	r, err := cmp.Compare(a, b)
	if err != nil {
		return "", err
	}
	switch {
	case r < 0:
		return "<", nil
	case r > 0:
		return ">", nil
	}
	return "=", nil
}
