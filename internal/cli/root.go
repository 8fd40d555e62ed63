// Package cli holds Vigil's commands. Each command is a thin file that
// parses flags into an options struct and calls one function of the engine;
// IO streams and the environment are injected through App, so commands are
// tested without a terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/vigil-scan/vigil/internal/cli.Version=...".
var Version = "dev"

// Exit codes, documented in README.md.
const (
	ExitOK         = 0
	ExitPolicy     = 1 // default for a failed gate; --exit-code overrides
	ExitScanFailed = 2
)

// IO is where a command reads and writes.
type IO struct {
	In    io.Reader
	Out   io.Writer
	Err   io.Writer
	IsTTY bool
	// Getenv reads the environment; tests inject their own.
	Getenv func(string) string
}

// StdIO is the process's standard streams and environment.
func StdIO() IO {
	tty := false
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, IsTTY: tty, Getenv: os.Getenv}
}

// App is shared by all commands of one invocation.
type App struct {
	IO
	Logger *slog.Logger
	level  slog.Level
}

// logLevel is the --log-level value.
func (app *App) logLevel() slog.Level { return app.level }

// color reports whether the table may use ANSI colours: standard output
// is a terminal and NO_COLOR (no-color.org) is unset.
func (app *App) color() bool { return app.IsTTY && app.Getenv("NO_COLOR") == "" }

// checkExitCode validates an --exit-code value: a process exit status is
// one byte.
func checkExitCode(code int) error {
	if code < 0 || code > 255 {
		return fmt.Errorf("--exit-code %d: must be 0..255", code)
	}
	return nil
}

// ExitError carries a specific exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// Main runs vigil with args and returns the process exit code.
func Main(ctx context.Context, args []string, streams IO) int {
	if streams.Getenv == nil {
		streams.Getenv = func(string) string { return "" }
	}
	app := &App{IO: streams}
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintln(streams.Err, "vigil:", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintln(streams.Err, "vigil:", err)
	return ExitScanFailed
}

func newRootCmd(app *App) *cobra.Command {
	var logLevel string
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Find known vulnerabilities in container images",
		Long: `Vigil inventories every package in a container image, layer by layer, matches
them against a local vulnerability DB, checks image best practices and gates
CI builds. Exit codes: 0 pass, 1 (or --exit-code) policy failed, 2 scan could not run.`,
		Version:       BuildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			app.level = level
			app.Logger = slog.New(slog.NewTextHandler(app.Err, &slog.HandlerOptions{Level: level}))
			return nil
		},
	}
	defLevel := "warn"
	if v := app.Getenv("VIGIL_LOG_LEVEL"); v != "" {
		defLevel = strings.ToLower(v)
	}
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().StringVar(&logLevel, "log-level", defLevel, "log level: debug, info, warn, error (VIGIL_LOG_LEVEL)")
	app.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	root.AddCommand(
		newSbomCmd(app),
		newImageCmd(app),
		newSbomScanCmd(app),
		newDBCmd(app),
		newVersionCmd(app),
		newLintCmd(app),
		newPublishCmd(app),
		newExplainCmd(app),
		newConvertCmd(app),
		newServeCmd(app),
		newWorkerCmd(app),
		newTokenCmd(app),
	)
	return root
}
