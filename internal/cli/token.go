package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/vigil-scan/vigil/internal/store"
)

func newTokenCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage the service's API tokens",
	}
	cmd.AddCommand(newTokenCreateCmd(app))
	return cmd
}

type tokenCreateOptions struct {
	svc    serviceFlags
	Tenant string
	Scope  string
}

func newTokenCreateCmd(app *App) *cobra.Command {
	var opts tokenCreateOptions
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an API token and print it (only its hash is stored)",
		Long: `Create makes an API token for the tenant (created if it does not exist) with
one scope: read (the API's GET routes), ingest (read, plus CI/CD publishing
and cluster reports) or admin (everything: registries, DB refresh). The token
is printed alone on standard output and cannot be shown again.`,
		Example: `  vigil token create --data-dir /var/lib/vigil --tenant acme --scope admin
  VIGIL_TOKEN=$(vigil token create --database postgres://vigil@db/vigil --tenant acme --scope ingest)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scope, err := store.ParseScope(opts.Scope)
			if err != nil {
				return err
			}
			cfg, err := opts.svc.load(app)
			if err != nil {
				return err
			}
			// A mistyped --data-dir would silently create a second,
			// empty service database whose tokens the server refuses.
			sqlitePath := ""
			if cfg.Server.Database == "" {
				sqlitePath = filepath.Join(cfg.Server.DataDir, "vigil-server.db")
			}
			_, statErr := os.Stat(sqlitePath)
			st, err := opts.svc.openStore(cmd.Context(), app, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			if sqlitePath != "" && errors.Is(statErr, fs.ErrNotExist) {
				fmt.Fprintf(app.Err, "vigil: note: created a new service database %s (no vigil serve has used this data dir yet); if the server runs with another --data-dir, this token will not work there\n", sqlitePath)
			}
			tok, err := st.CreateToken(cmd.Context(), opts.Tenant, scope)
			if err != nil {
				return err
			}
			fmt.Fprintln(app.Out, tok)
			return nil
		},
	}
	opts.svc.register(cmd)
	cmd.Flags().StringVar(&opts.Tenant, "tenant", "", "tenant (organisation) name (required)")
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "admin, ingest or read (required)")
	cmd.MarkFlagRequired("tenant")
	cmd.MarkFlagRequired("scope")
	return cmd
}
