package cli

import "github.com/spf13/cobra"

// TODO(owner): replaced by the real command.
func newVersionCmd(app *App) *cobra.Command {
	return &cobra.Command{Use: "version", Hidden: true}
}
