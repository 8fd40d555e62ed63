package debian

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// InfoDir is where dpkg keeps each package's file list, <pkg>[:arch].list.
const InfoDir = "var/lib/dpkg/info/"

// maxListLength bounds a path line of a file list; PATH_MAX is 4096.
const maxListLength = 64 << 10

// fileListAnalyzer reads the file lists of installed packages, keeping the
// files that may declare a language package (inventory.OwnedFiles): dpkg's
// info/<pkg>.list, one absolute path a line, and the status.d/<pkg>.md5sums
// of distroless images ("<md5>  <relative path>"), which have no .list.
type fileListAnalyzer struct{}

func (fileListAnalyzer) Name() string { return "dpkg-files" }
func (fileListAnalyzer) Version() int { return 1 }

func (fileListAnalyzer) Claims(path string, mode fs.FileMode, _ int64) bool {
	return mode.IsRegular() && fileListOwner(path) != ""
}

func (fileListAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("dpkg-files: %w", err)
	}
	files, err := parseFileList(ctx, r, strings.HasSuffix(f.Path, ".md5sums"))
	if err != nil {
		return fmt.Errorf("dpkg-files: reading %s: %w", f.Path, err)
	}
	if len(files) > 0 {
		out.Owned = append(out.Owned, inventory.OwnedFiles{Path: f.Path, Owner: inventory.Owner{Type: inventory.TypeDeb, Name: fileListOwner(f.Path)}, Files: files})
	}
	return nil
}

// fileListOwner returns the package a file list belongs to, or "" when
// path is not a file list: the name without its ":arch" (multi-arch
// packages' lists are "libc6:amd64.list"), as the status file names it.
func fileListOwner(path string) string {
	var name string
	if rest, ok := strings.CutPrefix(path, InfoDir); ok {
		name, _ = strings.CutSuffix(rest, ".list")
		if name == rest {
			return ""
		}
	} else if rest, ok := strings.CutPrefix(path, StatusDir); ok {
		name, _ = strings.CutSuffix(rest, ".md5sums")
		if name == rest {
			return ""
		}
	} else {
		return ""
	}
	if strings.Contains(name, "/") {
		return ""
	}
	name, _, _ = strings.Cut(name, ":")
	return name
}

// parseFileList returns the ownable files of a .list (md5sums false) or
// .md5sums file, without leading slashes. A .md5sums line that has no
// "  " between checksum and path is an error: the file is not one.
func parseFileList(ctx context.Context, r io.Reader, md5sums bool) ([]string, error) {
	var files []string
	err := ecosystem.ScanLines(ctx, r, maxListLength, func(lineNo int, line string) error {
		if line == "" {
			return nil
		}
		path := line
		if md5sums {
			_, p, ok := strings.Cut(line, "  ")
			if !ok {
				return fmt.Errorf("line %d: not \"<md5sum>  <path>\"", lineNo)
			}
			path = p
		}
		files = inventory.KeepOwnable(files, path)
		if len(files) > inventory.MaxOwnedFiles {
			return fmt.Errorf("more than %d package manifests", inventory.MaxOwnedFiles)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}
