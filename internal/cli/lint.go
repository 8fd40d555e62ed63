package cli

import "github.com/spf13/cobra"

// TODO(owner): replaced by the real command.
func newLintCmd(app *App) *cobra.Command {
	return &cobra.Command{Use: "lint", Hidden: true}
}
