package python

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// maxArchiveEntries bounds the central directory walked to find the
// metadata entry.
const maxArchiveEntries = 200_000

// archiveAnalyzer reads the metadata inside wheel (.whl) and zipped egg
// (.egg) archives: the distribution is present even if not installed.
type archiveAnalyzer struct{}

func (archiveAnalyzer) Name() string { return "python-archive" }
func (archiveAnalyzer) Version() int { return 1 }

// Claims takes archives up to archiveLimit; larger wheels (CUDA builds)
// would cost a spill to disk for one small entry.
func (archiveAnalyzer) Claims(path string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= archiveLimit &&
		(strings.HasSuffix(path, ".whl") || strings.HasSuffix(path, ".egg"))
}

func (a archiveAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.Size > archiveLimit {
		return fmt.Errorf("%s: %s: %d bytes: %w", a.Name(), f.Path, f.Size, inventory.ErrFileTooLarge)
	}
	ra, size, err := f.ReaderAt()
	if err != nil {
		return fmt.Errorf("%s: %w", a.Name(), err)
	}
	pkg, err := parseArchive(f.Path, ra, size)
	if err != nil {
		return fmt.Errorf("%s: reading %s: %w", a.Name(), f.Path, err)
	}
	out.Packages = append(out.Packages, pkg)
	return nil
}

// parseArchive finds the distribution's metadata entry: a top-level
// <name>.dist-info/METADATA in a wheel, EGG-INFO/PKG-INFO in an egg.
func parseArchive(path string, ra io.ReaderAt, size int64) (inventory.Package, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return inventory.Package{}, err
	}
	if len(zr.File) > maxArchiveEntries {
		return inventory.Package{}, fmt.Errorf("more than %d entries", maxArchiveEntries)
	}
	for _, zf := range zr.File {
		if !isArchiveMetadata(zf.Name) {
			continue
		}
		if zf.UncompressedSize64 > metadataLimit {
			return inventory.Package{}, fmt.Errorf("%s: %d bytes: %w", zf.Name, zf.UncompressedSize64, inventory.ErrFileTooLarge)
		}
		rc, err := zf.Open()
		if err != nil {
			return inventory.Package{}, fmt.Errorf("%s: %w", zf.Name, err)
		}
		// The declared size can lie; the limit reader holds regardless.
		content, err := io.ReadAll(io.LimitReader(rc, metadataLimit+1))
		rc.Close()
		if err != nil {
			return inventory.Package{}, fmt.Errorf("%s: %w", zf.Name, err)
		}
		if len(content) > metadataLimit {
			return inventory.Package{}, fmt.Errorf("%s: %w", zf.Name, inventory.ErrFileTooLarge)
		}
		m, err := parseMetadata(content)
		if err != nil {
			return inventory.Package{}, fmt.Errorf("%s: %w", zf.Name, err)
		}
		return newPackage(m.Name, m.Version, path, m.licenses()), nil
	}
	return inventory.Package{}, errors.New("no .dist-info/METADATA or EGG-INFO/PKG-INFO entry")
}

func isArchiveMetadata(name string) bool {
	if name == "EGG-INFO/PKG-INFO" {
		return true
	}
	dir, ok := strings.CutSuffix(name, "/METADATA")
	return ok && !strings.Contains(dir, "/") && strings.HasSuffix(dir, ".dist-info")
}
