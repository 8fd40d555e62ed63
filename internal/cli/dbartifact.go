package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/urlcred"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// installPrebuilt downloads the DB --from names: an OCI artifact
// (oci://...) or a Vigil server.
func installPrebuilt(ctx context.Context, fetcher *feeds.Fetcher, opts dbUpdateOptions, cfg config.Config) (vulndb.Metadata, bool, error) {
	if err := config.CheckDBRepository(opts.From); err != nil {
		return vulndb.Metadata{}, false, fmt.Errorf("--from %q: %w", opts.From, err)
	}
	if strings.HasPrefix(opts.From, feeds.OCIPrefix) {
		return feeds.InstallOCI(ctx, opts.From, cfg.CacheDir, cfg.DBPath, feeds.RegistryOptions{Insecure: opts.Insecure})
	}
	return fetcher.InstallPrebuilt(ctx, opts.From, cfg.CacheDir, cfg.DBPath)
}

type dbPublishOptions struct {
	db       dbFlags
	To       string
	Insecure bool
}

func newDBPublishCmd(app *App) *cobra.Command {
	var opts dbPublishOptions
	cmd := &cobra.Command{
		Use:   "publish --to REGISTRY/REPO:TAG",
		Short: "Push the DB to an OCI registry, for 'vigil db update --from oci://'",
		Long: `Publish pushes the DB file as an OCI artifact (artifactType
application/vnd.vigil.db.v1, config application/vnd.vigil.db.config.v1+json,
one zstd-compressed layer application/vnd.vigil.db.layer.v1.sqlite+zstd,
annotated with the build time, schema and the DB's digest), so any OCI
registry (Harbor, ACR, a private mirror) carries it to air-gapped runners.
Credentials come from the docker config and credential helpers
('docker login'). It prints the manifest digest.`,
		Example: `  vigil db update && vigil db publish --to registry.example.com/security/vigil-db:1
  vigil db publish --to localhost:5000/vigil-db:latest --insecure-registry --db ./vigil.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDBPublish(cmd.Context(), app, opts)
		},
	}
	opts.db.register(cmd, app)
	cmd.Flags().StringVar(&opts.To, "to", "", "registry reference to push to, REGISTRY/REPO:TAG (oci:// optional)")
	cmd.Flags().BoolVar(&opts.Insecure, "insecure-registry", false, "talk plain HTTP to the registry")
	cmd.MarkFlagRequired("to")
	return cmd
}

func runDBPublish(ctx context.Context, app *App, opts dbPublishOptions) error {
	cfg, err := opts.db.load(app)
	if err != nil {
		return err
	}
	start := time.Now()
	digest, err := feeds.PublishDB(ctx, cfg.DBPath, opts.To, feeds.RegistryOptions{Insecure: opts.Insecure})
	if err != nil {
		return err
	}
	fmt.Fprintf(app.Err, "DB %s pushed to %s in %s\n", cfg.DBPath, strings.TrimPrefix(opts.To, feeds.OCIPrefix), time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(app.Out, digest)
	return nil
}

// dbAutoFlags decide what a scan does when there is no DB yet.
type dbAutoFlags struct {
	skipUpdate bool
	repository string
	insecure   bool
}

func (f *dbAutoFlags) register(cmd *cobra.Command, app *App) {
	fl := cmd.Flags()
	fl.BoolVar(&f.skipUpdate, "skip-db-update", app.Getenv("VIGIL_SKIP_DB_UPDATE") == "true", "without a DB, fail instead of downloading or building one (VIGIL_SKIP_DB_UPDATE=true)")
	fl.StringVar(&f.repository, "db-repository", "", "where a first scan gets its DB: oci://REGISTRY/REPO:TAG or a Vigil server URL (VIGIL_DB_REPOSITORY, config db_repository; default: build it from the feeds or the mirror)")
	fl.BoolVar(&f.insecure, "db-insecure-registry", false, "talk plain HTTP to the --db-repository registry")
}

// ensure gets a DB when there is none at the configured path, as Trivy's
// first run does: from the DB repository when one is configured, else by
// building it from the feeds (or the mirror). It says what it does on
// standard error; --skip-db-update turns it off.
func (f *dbAutoFlags) ensure(ctx context.Context, app *App, db dbFlags, quiet bool) error {
	cfg, err := db.load(app)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DBPath); !errors.Is(err, fs.ErrNotExist) || f.skipUpdate {
		return nil
	}
	from := f.repository
	if from == "" {
		from = cfg.DBRepository
	}
	if err := config.CheckDBRepository(from); err != nil {
		return fmt.Errorf("--db-repository %q: %w", from, err)
	}
	source := urlcred.Redact(from)
	switch {
	case from != "":
	case cfg.Mirror != "":
		source = "the feeds in mirror " + urlcred.Redact(cfg.Mirror)
	default:
		source = "the upstream feeds (set --db-repository or a mirror to make this fast)"
	}
	fmt.Fprintf(app.Err, "No vulnerability DB at %s: getting one from %s (--skip-db-update to fail instead)\n", cfg.DBPath, source)
	start := time.Now()
	// The scan's -q also quiets the first DB's progress: only feeds
	// that failed are listed.
	if err := runDBUpdate(ctx, app, dbUpdateOptions{db: db, From: from, Insecure: f.insecure, Quiet: quiet}); err != nil {
		// There was no DB before: leave none rather than a partial one a
		// later scan would trust.
		os.Remove(cfg.DBPath)
		return fmt.Errorf("getting the first DB: %w", err)
	}
	fmt.Fprintf(app.Err, "DB ready in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
