package cli

import "github.com/spf13/cobra"

// TODO(owner): replaced by the real command.
func newImageCmd(app *App) *cobra.Command {
	return &cobra.Command{Use: "image", Hidden: true}
}
