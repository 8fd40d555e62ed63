package cli

import (
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/vigil-scan/vigil/internal/report"
)

// tableWidth is the width the table format fits: the terminal's when
// standard output is one, else COLUMNS, else report.DefaultWidth (CI
// logs, files).
func (app *App) tableWidth() int {
	if f, ok := app.Out.(*os.File); ok && app.IsTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(app.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return report.DefaultWidth
}
