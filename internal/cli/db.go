package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/urlcred"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

func newDBCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Build, update and inspect the vulnerability DB",
		Long: `The vulnerability DB is one SQLite file built from the feeds (OSV, Alpine secdb,
Debian tracker, NVD, EPSS, CISA KEV). Scans open it read-only. See
docs/vulndb.md and docs/configuration.md.`,
	}
	cmd.AddCommand(newDBUpdateCmd(app), newDBImportCmd(app), newDBStatusCmd(app), newDBSearchCmd(app), newDBPublishCmd(app))
	return cmd
}

type dbUpdateOptions struct {
	db           dbFlags
	Mirror       string
	Feeds        []string
	From         string
	RetryDelay   time.Duration
	AcceptShrink bool
	MaxShrink    config.Fraction
	IdleTimeout  time.Duration
	Insecure     bool // plain-HTTP registry for --from oci://
	Timeout      time.Duration
	Quiet        bool
}

// registerIntegrity adds the flags that decide when new feed data is
// refused.
func (o *dbUpdateOptions) registerIntegrity(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.AcceptShrink, "accept-shrink", false, "import feeds whose record count fell by more than --max-shrink (they are held back otherwise)")
	cmd.Flags().Var(&o.MaxShrink, "max-shrink", "largest record-count drop accepted per feed, as 0.1 or 10% (VIGIL_FEEDS_MAX_SHRINK; default 10%)")
	cmd.Flags().DurationVar(&o.IdleTimeout, "idle-timeout", 0, "abandon (and retry) a download that receives nothing for this long (VIGIL_FEEDS_IDLE_TIMEOUT; default 30s)")
}

func newDBUpdateCmd(app *App) *cobra.Command {
	var opts dbUpdateOptions
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Fetch the feeds and build a new DB (or download one with --from)",
		Long: `Update fetches every default feed (or those named with --feed; a prefix such as
"alpine" or "osv" selects a group) into a new DB that replaces the old one
atomically. Unchanged feeds (HTTP 304 or same digest) and feeds that fail keep
the previous DB's data; failures are noted in 'vigil db status'.
--mirror reads every feed from a directory or URL laid out like the upstream
hosts (see docs/configuration.md). --from downloads a prebuilt DB instead:
from a Vigil server (https://...) or an OCI registry (oci://REGISTRY/REPO:TAG,
pushed there by 'vigil db publish'; verified by digest, credentials from the
docker config and credential helpers, --insecure-registry for plain HTTP).

A feed whose new data is damaged (a cut download, a zip member failing its
CRC, a document that does not parse) keeps its previous rows, and so does a
feed whose record count fell by more than --max-shrink since the previous
import, until --accept-shrink; either way the command exits 2 once the DB is
written. A download that receives nothing for --idle-timeout is retried.`,
		Example: `  vigil db update
  vigil db update --feed osv/Go --feed alpine
  vigil db update --mirror https://mirror.example.com/vigil-feeds
  vigil db update --feed debian/dsa --accept-shrink
  vigil db update --max-shrink 25% --idle-timeout 2m
  vigil db update --from https://vigil.example.com
  vigil db update --from oci://registry.example.com/security/vigil-db:1
  vigil db update --from oci://localhost:5000/vigil-db:latest --insecure-registry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := withTimeout(cmd.Context(), opts.Timeout)
			defer cancel()
			return updateTimeout(ctx, opts.Timeout, runDBUpdate(ctx, app, opts))
		},
	}
	opts.db.register(cmd, app)
	cmd.Flags().StringVar(&opts.Mirror, "mirror", "", "read feeds from this directory or URL (VIGIL_FEEDS_MIRROR)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "stop the update after this long (e.g. 30m) with exit 2 (default: no limit)")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress on standard error, and only the feeds that failed or were refused")
	cmd.Flags().StringArrayVar(&opts.Feeds, "feed", nil, "update only this feed or feed group (repeatable)")
	cmd.Flags().StringVar(&opts.From, "from", "", "download a prebuilt DB from this Vigil server URL or oci://REGISTRY/REPO:TAG")
	cmd.Flags().BoolVar(&opts.Insecure, "insecure-registry", false, "talk plain HTTP to the registry of --from oci://")
	cmd.Flags().DurationVar(&opts.RetryDelay, "retry-delay", time.Second, "first delay between download retries (doubles each retry)")
	cmd.Flags().MarkHidden("retry-delay")
	opts.registerIntegrity(cmd)
	// A prebuilt DB is installed whole: no feed is fetched.
	cmd.MarkFlagsMutuallyExclusive("from", "mirror")
	cmd.MarkFlagsMutuallyExclusive("from", "feed")
	return cmd
}

func newDBImportCmd(app *App) *cobra.Command {
	var opts dbUpdateOptions
	cmd := &cobra.Command{
		Use:   "import DIR",
		Short: "Build the DB from feed files in a local directory (no network)",
		Long: `Import is 'vigil db update --mirror DIR': DIR is laid out like the feed hosts
(osv/<Ecosystem>/all.zip, alpine-secdb/<branch>/<repo>.yaml, debian/DSA-list,
kev/known_exploited_vulnerabilities.json, ...). Feeds missing from DIR are
skipped.`,
		Example: `  vigil db import ./feeds`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fi, err := os.Stat(args[0])
			if err != nil || !fi.IsDir() {
				return fmt.Errorf("%s is not a feeds directory", args[0])
			}
			opts.Mirror, err = filepath.Abs(args[0])
			if err != nil {
				return err
			}
			return runDBUpdate(cmd.Context(), app, opts)
		},
	}
	opts.db.register(cmd, app)
	cmd.Flags().StringArrayVar(&opts.Feeds, "feed", nil, "import only this feed or feed group (repeatable)")
	opts.registerIntegrity(cmd)
	return cmd
}

func runDBUpdate(ctx context.Context, app *App, opts dbUpdateOptions) error {
	cfg, err := opts.db.load(app)
	if err != nil {
		return urlcred.Error(err)
	}
	if opts.Mirror != "" {
		cfg.Mirror = opts.Mirror
	}
	if opts.MaxShrink > 0 {
		cfg.Feeds.MaxShrink = opts.MaxShrink
	}
	if opts.IdleTimeout > 0 {
		cfg.Feeds.IdleTimeout = opts.IdleTimeout
	}
	fetcher := &feeds.Fetcher{BaseDelay: opts.RetryDelay, UserAgent: "vigil/" + BuildVersion(), IdleTimeout: cfg.Feeds.IdleTimeout}
	if opts.From != "" {
		meta, cached, err := installPrebuilt(ctx, fetcher, opts, cfg)
		if err != nil {
			return urlcred.Error(err)
		}
		how := "downloaded"
		if cached {
			how = "installed from cache"
		}
		if !opts.Quiet {
			fmt.Fprintf(app.Err, "DB built %s %s to %s\n", meta.Built.Format(time.RFC3339), how, cfg.DBPath)
		}
		return nil
	}
	progress, stop := startFeedProgress(app, opts.Quiet)
	u := &feeds.Updater{Config: cfg, Fetcher: fetcher, Logger: app.Logger, AcceptShrink: opts.AcceptShrink, Progress: progress}
	res, err := u.Update(ctx, opts.Feeds)
	stop()
	// The feed lines are printed on failure too: they say why. -q keeps
	// only the feeds that need attention. Offline, every feed fails the
	// same way: one line says so instead of one per feed.
	if n, example := allUnreachable(res.Feeds); errors.Is(err, feeds.ErrNothingFetched) && n > 1 {
		fmt.Fprintf(app.Err, "all %d feeds failed: host unreachable (e.g. %s)\n", n, example)
		return urlcred.Error(nothingFetchedHint(err, cfg.Mirror))
	}
	for _, f := range res.Feeds {
		if f.Status == feeds.StatusSkipped {
			continue
		}
		if opts.Quiet && f.Warning == "" && (f.Status == feeds.StatusUpdated || f.Status == feeds.StatusUnchanged || f.Status == feeds.StatusCarried) {
			continue
		}
		line := fmt.Sprintf("%-22s %-14s %7d", f.Name, f.Status, f.Records)
		if f.Warning != "" {
			line += "  " + f.Warning
		}
		fmt.Fprintln(app.Err, line)
	}
	if err != nil {
		return urlcred.Error(nothingFetchedHint(err, cfg.Mirror))
	}
	if !opts.Quiet {
		fmt.Fprintf(app.Err, "DB written to %s\n", cfg.DBPath)
	}
	if res.Failed() {
		return &ExitError{Code: ExitScanFailed, Err: errors.New("some feeds failed and had no previous data; see above")}
	}
	if res.Rejected() {
		return &ExitError{Code: ExitScanFailed, Err: errors.New("the new data of some feeds was refused and their previous data kept; see above")}
	}
	return nil
}

func newDBStatusCmd(app *App) *cobra.Command {
	var db dbFlags
	var format string
	var verify bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the DB's schema, build time and every source",
		Long: `Status shows the DB's schema, build time and every source with its record count,
fetch time, digest, URL and warning. --verify also checks the file: SQLite's
integrity check over every page and index, and Vigil's invariants (records are
valid JSON, the lookup index exists, each source's count matches its rows, no
rows of an unlisted feed); any problem is listed and the command exits 2.`,
		Example: `  vigil db status
  vigil db status --format json --db ./vigil.db
  vigil db status --verify`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			d, err := db.open(app)
			if err != nil {
				return err
			}
			defer d.Close()
			if err := writeDBStatus(app.Out, d.Path(), d.Metadata(), format); err != nil {
				return err
			}
			if !verify {
				return nil
			}
			problems, err := d.Verify(cmd.Context())
			if err != nil {
				return &ExitError{Code: ExitScanFailed, Err: err}
			}
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(app.Err, "  -", p)
				}
				return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("DB %s failed verification (%d problems above): run `vigil db update` to rebuild it", d.Path(), len(problems))}
			}
			fmt.Fprintf(app.Err, "DB %s verified: integrity ok, %d sources consistent\n", d.Path(), len(d.Metadata().Sources))
			return nil
		},
	}
	db.register(cmd, app)
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.Flags().BoolVar(&verify, "verify", false, "check the DB file's integrity and Vigil's invariants (exit 2 on any problem)")
	return cmd
}

// dbStatus is the JSON form of `vigil db status`.
type dbStatus struct {
	Path string `json:"path"`
	vulndb.Metadata
}

// writeDBStatus writes the DB's metadata as JSON, or else as a table.
func writeDBStatus(w io.Writer, path string, m vulndb.Metadata, format string) error {
	// DBs written before URLs were redacted on import may still hold
	// credentials: never show them.
	for i := range m.Sources {
		m.Sources[i].URL = urlcred.Redact(m.Sources[i].URL)
		m.Sources[i].Warning = urlcred.RedactText(m.Sources[i].Warning)
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(dbStatus{Path: path, Metadata: m})
	}
	fmt.Fprintf(w, "DB:      %s\nSchema:  %d\nBuilt:   %s\n\n", path, m.SchemaVersion, m.Built.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tRECORDS\tFETCHED\tDIGEST\tURL\tWARNING")
	for _, s := range m.Sources {
		digest := s.Digest
		if len(digest) > 19 {
			digest = digest[:19]
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.Name, s.Records, s.Fetched.Format(time.RFC3339), digest, s.URL, s.Warning)
	}
	return tw.Flush()
}

// nothingFetchedHint adds the next step to "every feed failed": the usual
// cause is a runner without internet access (or a mirror path that is not
// laid out like the feed hosts), and the fix is a flag away.
func nothingFetchedHint(err error, mirror string) error {
	if !errors.Is(err, feeds.ErrNothingFetched) {
		return err
	}
	if mirror != "" {
		return fmt.Errorf("%w\n  check that the mirror %s is laid out like the feed hosts (osv/Go/all.zip, alpine-secdb/v3.20/main.yaml, debian/DSA-list, …; `vigil db status` lists each feed's URL)", err, urlcred.Redact(mirror))
	}
	return fmt.Errorf("%w\n  offline? build the DB from a mirror (VIGIL_FEEDS_MIRROR=DIR|URL vigil db update, or vigil db import DIR),\n  or get a built one: vigil db update --from oci://REGISTRY/REPO:TAG or --from https://VIGIL-SERVER", err)
}

// allUnreachable reports how many feeds were tried when every one failed
// because its host could not be reached, with one feed's warning as the
// example; 0 when any feed failed otherwise or did not fail.
func allUnreachable(fs []feeds.FeedResult) (int, string) {
	n, example := 0, ""
	for _, f := range fs {
		if f.Status == feeds.StatusSkipped {
			continue
		}
		if f.Status != feeds.StatusFailed || !strings.Contains(f.Warning, feeds.ErrUnreachable.Error()) {
			return 0, ""
		}
		if n == 0 {
			example = f.Name + ": " + f.Warning
		}
		n++
	}
	return n, example
}
