package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/publish"
	"github.com/vigil-scan/vigil/internal/result"
)

// publishFlags are shared by `vigil publish` and `vigil image --publish`.
type publishFlags struct {
	Server      string
	Token       string
	FailOnError bool
	RetryDelay  time.Duration
}

func (f *publishFlags) register(cmd *cobra.Command, app *App) {
	cmd.Flags().StringVar(&f.Server, "server", app.Getenv("VIGIL_SERVER"), "Vigil server URL (VIGIL_SERVER)")
	cmd.Flags().StringVar(&f.Token, "token", app.Getenv("VIGIL_TOKEN"), "API token for the server (VIGIL_TOKEN)")
	cmd.Flags().BoolVar(&f.FailOnError, "fail-on-publish-error", false, "exit 2 when the results cannot be published (default: warn and go on)")
	cmd.Flags().DurationVar(&f.RetryDelay, "publish-retry-delay", time.Second, "first delay between publish retries (doubles each retry)")
	cmd.Flags().MarkHidden("publish-retry-delay")
}

func newPublishCmd(app *App) *cobra.Command {
	var flags publishFlags
	cmd := &cobra.Command{
		Use:   "publish REPORT.json",
		Short: "Send a JSON scan report to the Vigil service with its CI/CD context",
		Long: `Publish sends a report written by 'vigil image --format json' to a Vigil server,
together with the CI context detected from the environment (GitHub Actions,
Azure Pipelines, GitLab CI): workflow, run URL, repository, commit, ref.
Network errors, 5xx and 429 answers are retried with backoff. An unreachable
server only warns unless --fail-on-publish-error is given.`,
		Example: `  vigil image alpine:3.20 --format json=report.json
  vigil publish report.json --server https://vigil.example.com --token "$VIGIL_TOKEN"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if flags.Server == "" {
				return errNoServer
			}
			// The file is checked, then streamed into each attempt's
			// request: it is never held whole (issue 8 item 8).
			u, err := publish.OpenReport(args[0], publish.DetectTrace(app.Getenv))
			if err != nil {
				return err
			}
			return sendUpload(cmd.Context(), app, flags, u)
		},
	}
	flags.register(cmd, app)
	return cmd
}

// maxReportSize bounds a report read from disk.
const maxReportSize = 512 << 20

func readReport(path string) (*result.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening report: %w", err)
	}
	defer f.Close()
	var rep result.Report
	lr := &io.LimitedReader{R: f, N: maxReportSize + 1}
	if err := json.NewDecoder(lr).Decode(&rep); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("%s: larger than %d MiB; not read", path, maxReportSize>>20)
		}
		return nil, fmt.Errorf("%s is not a Vigil JSON report: %w", path, err)
	}
	if rep.SchemaVersion == "" || rep.Artifact.Name == "" {
		return nil, fmt.Errorf("%s is not a Vigil JSON report (no schema_version or artifact); write one with --format json", path)
	}
	return &rep, nil
}

var errNoServer = errors.New("no server: pass --server or set VIGIL_SERVER")

// publishReport sends rep; failures only warn unless flags.FailOnError.
func publishReport(ctx context.Context, app *App, flags publishFlags, rep *result.Report) error {
	if flags.Server == "" {
		return errNoServer
	}
	u, err := publish.NewUpload(rep, publish.DetectTrace(app.Getenv))
	if err != nil {
		return publishFailed(app, flags, err)
	}
	return sendUpload(ctx, app, flags, u)
}

func publishFailed(app *App, flags publishFlags, err error) error {
	if flags.FailOnError {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	fmt.Fprintf(app.Err, "vigil: warning: %v (the build goes on; --fail-on-publish-error makes this fatal)\n", err)
	return nil
}

// sendUpload sends u; failures only warn unless flags.FailOnError.
func sendUpload(ctx context.Context, app *App, flags publishFlags, u *publish.Upload) error {
	client := &publish.Client{Server: flags.Server, Token: flags.Token, BaseDelay: flags.RetryDelay}
	receipt, err := client.Send(ctx, u)
	if err != nil {
		return publishFailed(app, flags, err)
	}
	msg := "published as " + receipt.ID
	if receipt.URL != "" {
		msg += ": " + receipt.URL
	}
	if u.Image.Digest == "" {
		// A dir: or SBOM scan: the service keeps the run, but no image
		// page or list shows it, which surprises a first user.
		msg += " (the report names no image digest, so the service lists it under no image; publish a scan of an image: a registry reference, docker-archive:, oci-layout: or a daemon)"
	}
	fmt.Fprintln(app.Err, msg)
	return nil
}
