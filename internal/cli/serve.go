package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/dustin/go-humanize"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/urlcred"
)

// uiHandler builds the web UI; internal/web sets it from an init function
// in this package, so `vigil serve` mounts the UI when it is compiled in.
var uiHandler func(server.UIDeps) http.Handler

// serviceFlags are shared by serve, worker and token.
type serviceFlags struct {
	Config   string
	DataDir  string
	Database string
}

func (f *serviceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.Config, "config", "", "config file (VIGIL_CONFIG; default <user config>/vigil/config.yaml)")
	cmd.Flags().StringVar(&f.DataDir, "data-dir", "", "data directory: SQLite database, server key, vulnerability DB (VIGIL_DATA_DIR; default <user data>/vigil)")
	cmd.Flags().StringVar(&f.Database, "database", "", "postgres://... for PostgreSQL, else an SQLite file (VIGIL_DATABASE; default DATA_DIR/vigil-server.db)")
}

// load resolves the config: flags over env over the file.
func (f *serviceFlags) load(app *App) (config.Config, error) {
	cfg, err := config.Load(app.Getenv, f.Config)
	if err != nil {
		return cfg, err
	}
	if f.DataDir != "" {
		cfg.Server.DataDir = f.DataDir
	}
	if f.Database != "" {
		cfg.Server.Database = f.Database
	}
	if cfg.Server.DataDir == "" {
		dir := app.Getenv("XDG_DATA_HOME")
		if dir == "" {
			home := app.Getenv("HOME")
			if home == "" {
				return cfg, errors.New("no data directory: give --data-dir")
			}
			dir = filepath.Join(home, ".local", "share")
		}
		cfg.Server.DataDir = filepath.Join(dir, "vigil")
	}
	// The service keeps its own vulnerability DB in its data directory,
	// unless VIGIL_DB or the config file names one.
	if app.Getenv("VIGIL_DB") == "" && !fileSetsDB(cfg) {
		cfg.DBPath = filepath.Join(cfg.Server.DataDir, "db", "vigil.db")
	}
	return cfg, nil
}

func fileSetsDB(cfg config.Config) bool {
	if cfg.File == "" {
		return false
	}
	def, err := config.Load(func(string) string { return "" }, os.DevNull)
	return err == nil && cfg.DBPath != def.DBPath
}

func (f *serviceFlags) openStore(ctx context.Context, app *App, cfg config.Config) (*store.Store, error) {
	keys, err := store.LoadKeyring(app.Getenv("VIGIL_SECRET_KEY"), cfg.Server.DataDir)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Options{URL: cfg.Server.Database, DataDir: cfg.Server.DataDir, Keys: keys})
}

type serveOptions struct {
	svc          serviceFlags
	Listen       string
	Concurrency  int
	Daily        time.Duration
	Refresh      time.Duration
	PushedWindow time.Duration
	PulledWindow time.Duration
	workOnly     bool
	// HarborRegistries add to config server.harbor_registries.
	HarborRegistries []string
	// MaxBody overrides config server.max_body.
	MaxBody string
}

func (o *serveOptions) registerJobFlags(cmd *cobra.Command) {
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", 0, "jobs worked at once (config server.concurrency; default 4)")
	cmd.Flags().DurationVar(&o.Daily, "daily", 0, "interval of the re-evaluation pass (config server.daily; default 24h)")
	cmd.Flags().DurationVar(&o.Refresh, "refresh", 0, "interval of the feed refresh (config server.refresh; default 6h)")
	cmd.Flags().DurationVar(&o.PushedWindow, "pushed-window", 0, "the daily pass re-evaluates images pushed within this (default 2160h = 90 days)")
	cmd.Flags().DurationVar(&o.PulledWindow, "pulled-window", 0, "... or pulled within this (default 720h = 30 days), or running")
}

func newServeCmd(app *App) *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Vigil service: API, webhooks, scheduler and workers in one process",
		Long: `Serve runs the central service (docs/server.md): the REST API and registry
webhooks, the scheduler and the scan workers, in one process. The database is
an SQLite file in the data directory, or PostgreSQL with --database
postgres://... (then more 'vigil worker' processes can share the work). On
first start the vulnerability DB is built from the configured feeds
(VIGIL_FEEDS_MIRROR works as for 'vigil db update'); /readyz answers 503
until it exists. Create API tokens with 'vigil token create'.`,
		Example: `  vigil serve --data-dir /var/lib/vigil
  vigil serve --listen 0.0.0.0:8080 --database postgres://vigil@db/vigil
  VIGIL_FEEDS_MIRROR=/srv/feeds vigil serve --data-dir ./data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), app, opts)
		},
	}
	opts.svc.register(cmd)
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "address to listen on (VIGIL_LISTEN; default 127.0.0.1:8080)")
	cmd.Flags().StringSliceVar(&opts.HarborRegistries, "harbor-registry", nil, "registry host[:port] the Harbor scanner API may pull from, repeatable (config server.harbor_registries; default any)")
	cmd.Flags().StringVar(&opts.MaxBody, "max-body", "", "largest API request body, e.g. a published report (config server.max_body; default 16MiB)")
	opts.registerJobFlags(cmd)
	return cmd
}

// maxBodySetting parses --max-body or server.max_body (0: the default).
func maxBodySetting(flag, file string) (int64, error) {
	s, name := flag, "--max-body"
	if s == "" {
		s, name = file, "config server.max_body"
	}
	if s == "" {
		return 0, nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > 1<<40 {
		return 0, fmt.Errorf("%s %q: want a positive size such as 16MiB or 64MiB", name, s)
	}
	return int64(n), nil
}

func newWorkerCmd(app *App) *cobra.Command {
	opts := serveOptions{workOnly: true}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run scan and re-evaluation workers against a shared PostgreSQL",
		Long: `Worker runs only the job workers (scans, re-evaluation, DB refresh) of the
service, against the PostgreSQL database that 'vigil serve' uses, so API
replicas and workers scale separately. Every process needs the same server
key (VIGIL_SECRET_KEY, or the same secret.key in --data-dir) to read registry
passwords. The vulnerability DB is built by whichever process runs the feed
refresh and published in the database; every process loads the newest build
from there (at start, before matching, and every 30 s) into its data
directory, without fetching the feeds itself.`,
		Example: `  VIGIL_SECRET_KEY=... vigil worker --database postgres://vigil@db/vigil --data-dir /var/lib/vigil-worker`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), app, opts)
		},
	}
	opts.svc.register(cmd)
	opts.registerJobFlags(cmd)
	return cmd
}

// sharedDBPoll is how often a process looks for a newer shared DB build
// besides the look each job takes before matching.
const sharedDBPoll = 30 * time.Second

func durationSetting(flag time.Duration, file, name string) (time.Duration, error) {
	if flag != 0 || file == "" {
		return flag, nil
	}
	d, err := time.ParseDuration(file)
	if err != nil {
		return 0, fmt.Errorf("config server.%s: %w", name, err)
	}
	return d, nil
}

func runServe(ctx context.Context, app *App, opts serveOptions) error {
	cfg, err := opts.svc.load(app)
	if err != nil {
		return err
	}
	maxBody, err := maxBodySetting(opts.MaxBody, cfg.Server.MaxBody)
	if err != nil {
		return err
	}
	if opts.workOnly && !isPostgresURL(cfg.Server.Database) {
		return errors.New("vigil worker needs --database postgres://... (with SQLite, 'vigil serve' runs the workers)")
	}
	jo := jobs.Options{Work: true, Concurrency: opts.Concurrency}
	if jo.Concurrency == 0 {
		jo.Concurrency = cfg.Server.Concurrency
	}
	for _, d := range []struct {
		dst  *time.Duration
		flag time.Duration
		file string
		name string
	}{
		{&jo.Daily, opts.Daily, cfg.Server.Daily, "daily"}, {&jo.Refresh, opts.Refresh, cfg.Server.Refresh, "refresh"},
		{&jo.Windows.Pushed, opts.PushedWindow, cfg.Server.PushedWindow, "pushed_window"},
		{&jo.Windows.Pulled, opts.PulledWindow, cfg.Server.PulledWindow, "pulled_window"},
	} {
		if *d.dst, err = durationSetting(d.flag, d.file, d.name); err != nil {
			return err
		}
	}
	listen := opts.Listen
	if listen == "" {
		listen = cfg.Server.Listen
	}
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	logger := slog.New(slog.NewJSONHandler(app.Err, &slog.HandlerOptions{Level: app.logLevel()}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := opts.svc.openStore(ctx, app, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	cdb := &jobs.CurrentDB{Config: cfg, UserAgent: "vigil/" + Version, Logger: logger}
	if st.Postgres() {
		// Processes sharing one PostgreSQL share the DB the refresh builds.
		cdb.Shared = st
	}
	if err := cdb.Load(); err != nil {
		logger.Warn("the existing vulnerability DB cannot be read; rebuilding it", "err", err)
	}
	defer cdb.Close()
	if _, err := cdb.Sync(ctx); err != nil {
		logger.Warn("the shared vulnerability DB cannot be loaded", "err", err)
	}
	go cdb.Watch(ctx, sharedDBPoll)
	q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: cdb, Logger: logger, ToolVersion: Version, TempDir: filepath.Join(cfg.Server.DataDir, "tmp")}, jo)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Server.DataDir, "tmp"), 0o700); err != nil {
		return err
	}
	if err := q.Start(ctx); err != nil {
		return err
	}
	if !cdb.Ready() {
		logger.Info("no vulnerability DB yet: building it from the feeds", "db", cfg.DBPath)
		if err := q.EnqueueRefresh(ctx); err != nil {
			return err
		}
	}
	if opts.workOnly {
		logger.Info("worker started")
		<-ctx.Done()
		return shutdown(logger, q, nil, nil)
	}
	srvOpts := server.Options{Store: st, Queue: q, DB: cdb, Logger: logger, Version: BuildVersion(), MaxBody: maxBody,
		HarborRegistries: append(cfg.Server.HarborRegistries, opts.HarborRegistries...)}
	if uiHandler != nil {
		srvOpts.UI = uiHandler(server.UIDeps{Store: st, Queue: q, DB: cdb, Logger: logger})
	}
	srv := server.New(srvOpts)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("vigil serve listening", "addr", ln.Addr().String(), "data_dir", cfg.Server.DataDir, "postgres", st.Postgres())
	// One plain line whatever the log level (warn by default shows none):
	// a first start should say where to go next.
	fmt.Fprintf(app.Err, "vigil serve: API and web UI on http://%s/ (data in %s); sign in with a token from: vigil token create --data-dir %s --tenant NAME --scope admin\n",
		ln.Addr(), cfg.Server.DataDir, cfg.Server.DataDir)
	if !cdb.Ready() {
		fmt.Fprintf(app.Err, "vigil serve: building the first vulnerability DB from %s; /readyz answers 503 and scans wait until it is ready\n", cmp.Or(urlcred.Redact(cfg.Mirror), "the upstream feeds (offline? set VIGIL_FEEDS_MIRROR)"))
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return shutdown(logger, q, hs, srv)
}

// shutdown stops taking requests, lets jobs in flight finish (30 s), and
// returns; a job cut short is retried by the next start.
func shutdown(logger *slog.Logger, q *jobs.Queue, hs *http.Server, srv *server.Server) error {
	logger.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if hs != nil {
		hs.Shutdown(ctx)
	}
	if srv != nil {
		srv.Stop()
	}
	return q.Stop(ctx)
}

func isPostgresURL(u string) bool {
	return len(u) > 11 && (u[:11] == "postgres://" || (len(u) > 13 && u[:13] == "postgresql://"))
}
