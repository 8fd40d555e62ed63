package java

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// Scan lists the Maven artifacts in the Java archive at diskPath (read
// through ra) and in the archives nested in it, once per name@version.
// Problems with nested archives are returned as warnings; only an
// unreadable outer archive is an error.
func Scan(ctx context.Context, diskPath string, ra io.ReaderAt, size int64) ([]inventory.Package, []string, error) {
	s := &scanner{diskPath: diskPath, budget: maxTotalBytes, seen: map[string]bool{}}
	if err := s.scan(ctx, ra, size, "", 0); err != nil {
		return nil, s.warnings, err
	}
	return s.pkgs, s.warnings, nil
}

// scanner holds the state of one Scan: output so far and the bytes left to
// decompress.
type scanner struct {
	diskPath string
	budget   int64
	pkgs     []inventory.Package
	seen     map[string]bool
	warnings []string
	deepSeen bool
	// broke is set once the budget is spent: reading stops and the one
	// warning says so.
	broke bool
}

// scan reads one archive; nested is its "a.jar!/b.jar" path inside the
// on-disk file ("" for the file itself) and depth its nesting level.
func (s *scanner) scan(ctx context.Context, ra io.ReaderAt, size int64, nested string, depth int) error {
	count, err := entryCount(ra, size)
	if err != nil {
		return err
	}
	if count > maxEntries {
		return fmt.Errorf("%d zip entries exceed the limit of %d", count, maxEntries)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// Entry names with ".." are harmless here: nothing is extracted.
		return fmt.Errorf("invalid zip archive: %w", err)
	}
	var (
		poms     []artifact
		manifest map[string]string
		inner    []*zip.File
	)
	for i, f := range zr.File {
		if s.broke {
			break
		}
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if f.FileInfo().IsDir() {
			continue
		}
		switch {
		case path.Base(f.Name) == "pom.properties":
			content, err := s.read(f, maxMetadataBytes)
			if err != nil {
				s.warn(nested, f.Name, err)
				continue
			}
			if a, ok := pomArtifact(content); ok {
				poms = append(poms, a)
			}
		case strings.EqualFold(f.Name, "META-INF/MANIFEST.MF"):
			content, err := s.read(f, maxMetadataBytes)
			if err != nil {
				s.warn(nested, f.Name, err)
				continue
			}
			manifest = parseManifest(content)
		case IsArchiveName(f.Name):
			inner = append(inner, f)
		}
	}
	fileName := s.diskPath
	if nested != "" {
		fileName = path.Base(nested)
	}
	if err := s.addOwn(poms, manifest, fileName, nested); err != nil {
		return err
	}
	for _, f := range inner {
		if s.broke {
			break
		}
		if err := s.scanNested(ctx, f, nested, depth); err != nil {
			return err
		}
	}
	return nil
}

// addOwn records the artifacts an archive declares about itself: its
// pom.properties files (the archive's own and those of shaded
// dependencies), else what its manifest says, else its file name.
func (s *scanner) addOwn(poms []artifact, manifest map[string]string, fileName, nested string) error {
	if len(poms) > 0 {
		// The manifest's licence belongs to the archive's own artifact: the
		// only pom, or the one the file is named after.
		if lic := manifestLicenses(manifest); len(lic) > 0 {
			stem, _ := splitFileName(fileName)
			for i := range poms {
				if len(poms) == 1 || poms[i].name == stem {
					poms[i].licenses = lic
					break
				}
			}
		}
		for _, a := range poms {
			if err := s.add(a, nested); err != nil {
				return err
			}
		}
		return nil
	}
	if a, ok := manifestArtifact(manifest, fileName); ok {
		return s.add(a, nested)
	}
	if a, ok := fileNameArtifact(fileName); ok {
		return s.add(a, nested)
	}
	return nil
}

func (s *scanner) add(a artifact, nested string) error {
	id := a.key() + "@" + a.version
	if s.seen[id] {
		return nil
	}
	if len(s.pkgs) >= maxPackages {
		return fmt.Errorf("more than %d packages", maxPackages)
	}
	s.seen[id] = true
	s.pkgs = append(s.pkgs, a.toPackage(s.diskPath, nested))
	return nil
}

// scanNested reads a nested archive into memory and scans it. Its failures
// become warnings, except cancellation and running out of budget.
func (s *scanner) scanNested(ctx context.Context, f *zip.File, parent string, depth int) error {
	name := f.Name
	if parent != "" {
		name = parent + "!/" + f.Name
	}
	if depth+1 > maxDepth {
		if !s.deepSeen {
			s.deepSeen = true
			s.warnings = append(s.warnings, fmt.Sprintf("%s: archives nested deeper than %d levels not scanned (%s)", s.diskPath, maxDepth, name))
		}
		return nil
	}
	content, err := s.read(f, maxNestedBytes)
	if err != nil {
		s.warn(parent, f.Name, err)
		return nil
	}
	if err := s.scan(ctx, bytes.NewReader(content), int64(len(content)), name, depth+1); err != nil {
		if ctx.Err() != nil {
			return err
		}
		s.warn(parent, f.Name, err)
	}
	return nil
}

// errBudget is returned once an archive has decompressed maxTotalBytes.
var errBudget = fmt.Errorf("archive decompresses to more than %d bytes: rest not scanned", maxTotalBytes)

// read decompresses one entry, refusing more than limit bytes and
// charging what it read to the archive's budget.
func (s *scanner) read(f *zip.File, limit int64) ([]byte, error) {
	limit = min(limit, s.budget)
	if f.UncompressedSize64 > uint64(limit) {
		if limit == s.budget {
			s.broke = true
			return nil, errBudget
		}
		return nil, fmt.Errorf("%d bytes uncompressed exceeds the %d-byte limit", f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The header's size can lie: the limit is enforced on what is read.
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	s.budget -= int64(len(b))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		if s.budget <= 0 {
			s.broke = true
			return nil, errBudget
		}
		return nil, fmt.Errorf("entry decompresses to more than %d bytes", limit)
	}
	return b, nil
}

// maxWarnings bounds the warnings one archive produces.
const maxWarnings = 20

func (s *scanner) warn(parent, entry string, err error) {
	if len(s.warnings) >= maxWarnings {
		return
	}
	where := s.diskPath
	if parent != "" {
		where += "!/" + parent
	}
	s.warnings = append(s.warnings, fmt.Sprintf("%s!/%s: %v", where, entry, err))
}
