package cli

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// dbFlags locate the vulnerability DB and the config file; shared by
// `vigil db` and the scanning commands.
type dbFlags struct {
	Path   string
	Config string
}

func (f *dbFlags) register(cmd *cobra.Command, app *App) {
	cmd.Flags().StringVar(&f.Path, "db", "", "vulnerability DB file (VIGIL_DB; default <user cache>/vigil/db/vigil.db)")
	cmd.Flags().StringVar(&f.Config, "config", "", "config file (VIGIL_CONFIG; default <user config>/vigil/config.yaml)")
}

// load resolves the configuration; --db wins over VIGIL_DB and the file.
func (f *dbFlags) load(app *App) (config.Config, error) {
	cfg, err := config.Load(app.Getenv, f.Config)
	if err != nil {
		return cfg, err
	}
	if f.Path != "" {
		cfg.DBPath = f.Path
	}
	return cfg, nil
}

// open opens the DB read-only.
func (f *dbFlags) open(app *App) (*vulndb.DB, error) {
	cfg, err := f.load(app)
	if err != nil {
		return nil, err
	}
	return vulndb.Open(cfg.DBPath)
}

// openChecked opens the DB for a scan and applies feeds.CheckDB: an empty
// or half-failed DB is refused; feeds kept from an older fetch come back
// as notes for the report.
func (f *dbFlags) openChecked(app *App) (*vulndb.DB, []result.NotJudged, error) {
	cfg, err := f.load(app)
	if err != nil {
		return nil, nil, err
	}
	db, err := vulndb.Open(cfg.DBPath)
	if err != nil {
		return nil, nil, err
	}
	notes, err := feeds.CheckDB(context.Background(), cfg, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, notes, nil
}
