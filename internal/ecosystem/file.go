package ecosystem

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// FileCataloger is the shape of every manifest and lockfile cataloger: it
// claims files by path, reads each one whole (up to Limit bytes) and turns
// it into packages with Parse. The per-ecosystem packages only provide
// the two functions.
type FileCataloger struct {
	ID    string // the analyzer name, e.g. "npm-package-lock"
	Rev   int    // the analyzer version; bump when Parse's output changes (0 means 1)
	Limit int64  // the largest file read
	Match func(path string) bool
	Parse func(path string, content []byte) ([]inventory.Package, error)
}

func (c FileCataloger) Name() string { return c.ID }

func (c FileCataloger) Version() int { return max(c.Rev, 1) }

func (c FileCataloger) Claims(path string, mode fs.FileMode, _ int64) bool {
	return mode.IsRegular() && c.Match(path)
}

func (c FileCataloger) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	content, err := f.Bytes(c.Limit)
	if err != nil {
		return fmt.Errorf("%s: %w", c.ID, err)
	}
	pkgs, err := c.Parse(f.Path, content)
	if err != nil {
		return fmt.Errorf("%s: parsing %s: %w", c.ID, f.Path, err)
	}
	out.Packages = append(out.Packages, pkgs...)
	return nil
}
