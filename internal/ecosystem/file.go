package ecosystem

import (
	"context"
	"fmt"
	"io"
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

// StreamCataloger is the shape of the package-database catalogers that
// read their file as a stream and report per-record problems as warnings
// (apk installed, dpkg status, the rpm container manifest): one bad stanza
// must not hide the rest.
type StreamCataloger struct {
	ID  string
	Rev int // 0 means 1
	// Paths, when set, are the fixed paths Match claims
	// (inventory.PathClaimer), so they are found behind symlinks too.
	Paths []string
	Match func(path string) bool
	Parse func(ctx context.Context, r io.Reader, path string) ([]inventory.Package, []string, error)
}

func (c StreamCataloger) Name() string { return c.ID }

func (c StreamCataloger) Version() int { return max(c.Rev, 1) }

func (c StreamCataloger) FixedPaths() []string { return c.Paths }

func (c StreamCataloger) Claims(path string, mode fs.FileMode, _ int64) bool {
	return mode.IsRegular() && c.Match(path)
}

func (c StreamCataloger) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("%s: %w", c.ID, err)
	}
	pkgs, warnings, err := c.Parse(ctx, r, f.Path)
	if err != nil {
		return fmt.Errorf("%s: reading %s: %w", c.ID, f.Path, err)
	}
	out.Packages = append(out.Packages, pkgs...)
	out.Warnings = append(out.Warnings, warnings...)
	return nil
}
