package cli

import (
	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/config"
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
