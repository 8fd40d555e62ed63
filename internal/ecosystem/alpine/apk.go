// Package alpine owns Alpine Linux support: the apk installed-database
// cataloger and the Alpine secdb feed parser.
package alpine

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// InstalledPath is where apk keeps its database of installed packages.
const InstalledPath = "lib/apk/db/installed"

// Limits that keep a hostile database from using unbounded memory. Real
// databases hold a few hundred packages with lines well under 4 KiB.
const (
	maxLineLength = 1 << 20
	maxPackages   = 100_000
)

// Analyzers returns the Alpine catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{analyzer{}}
}

// analyzer reads the installed database: its packages, and the files of
// each that may declare a language package (inventory.OwnedFiles).
type analyzer struct{}

func (analyzer) Name() string { return "apk" }

// Version 2: the owned file lists.
func (analyzer) Version() int { return 2 }

func (analyzer) FixedPaths() []string { return []string{InstalledPath} }

func (analyzer) Claims(path string, mode fs.FileMode, _ int64) bool {
	return mode.IsRegular() && path == InstalledPath
}

func (analyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("apk: %w", err)
	}
	db, err := parseInstalled(ctx, r, f.Path)
	if err != nil {
		return fmt.Errorf("apk: reading %s: %w", f.Path, err)
	}
	out.Packages = append(out.Packages, db.packages...)
	out.Owned = append(out.Owned, db.owned...)
	out.Warnings = append(out.Warnings, db.warnings...)
	return nil
}

// database is what parseInstalled finds.
type database struct {
	packages []inventory.Package
	owned    []inventory.OwnedFiles
	warnings []string
}

// apkStanza is one package record of the installed database; only the
// fields Vigil reports are kept.
type apkStanza struct {
	line, fields                          int
	name, version, arch, origin, licenses string
	// dir is the last F: line; files the ownable R: files under it.
	dir   string
	files []string
}

// parseInstalled reads an apk installed database: blank-line separated
// stanzas of "K:value" lines. Stanzas without a name or version are skipped
// with a warning; a line that is not "K:value" means the file is not an apk
// database and is an error. Each package's files are its "R:" lines, under
// the directory of the "F:" line before them.
func parseInstalled(ctx context.Context, r io.Reader, path string) (database, error) {
	var (
		db  database
		cur apkStanza
	)
	flush := func() error {
		defer func() { cur = apkStanza{} }()
		if cur.fields == 0 {
			return nil
		}
		if cur.name == "" || cur.version == "" {
			db.warnings = append(db.warnings, fmt.Sprintf("%s: stanza at line %d has no package name or version; skipped", path, cur.line))
			return nil
		}
		if len(db.packages) >= maxPackages {
			return fmt.Errorf("more than %d packages", maxPackages)
		}
		db.packages = append(db.packages, cur.toPackage(path))
		if len(cur.files) > 0 {
			db.owned = append(db.owned, inventory.OwnedFiles{Path: path, Owner: inventory.Owner{Type: inventory.TypeApk, Name: cur.name}, Files: cur.files})
		}
		return nil
	}
	err := ecosystem.ScanLines(ctx, r, maxLineLength, func(lineNo int, line string) error {
		if strings.TrimSpace(line) == "" {
			return flush()
		}
		if len(line) < 2 || line[1] != ':' {
			return fmt.Errorf("line %d: not a key:value line", lineNo)
		}
		if cur.fields == 0 {
			cur.line = lineNo
		}
		cur.fields++
		value := line[2:]
		switch line[0] {
		case 'P':
			cur.name = value
		case 'V':
			cur.version = value
		case 'A':
			cur.arch = value
		case 'o':
			cur.origin = value
		case 'L':
			cur.licenses = value
		case 'F':
			cur.dir = value
		case 'R':
			if cur.dir != "" {
				value = cur.dir + "/" + value
			}
			cur.files = inventory.KeepOwnable(cur.files, value)
			if len(cur.files) > inventory.MaxOwnedFiles {
				return fmt.Errorf("line %d: more than %d package manifests in one package", lineNo, inventory.MaxOwnedFiles)
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return database{}, err
	}
	return db, nil
}

func (s apkStanza) toPackage(path string) inventory.Package {
	origin := s.origin
	if origin == "" {
		// A package built from an APKBUILD of its own name has no "o:" in
		// older databases; secdb keys it by that name.
		origin = s.name
	}
	p := inventory.Package{
		Name:    s.name,
		Version: s.version,
		Type:    inventory.TypeApk,
		PURL:    purl(s.name, s.version, s.arch),
		Source:  &inventory.SourcePackage{Name: origin, Version: s.version},
		Path:    path,
		Arch:    s.arch,
	}
	if l := strings.TrimSpace(s.licenses); l != "" {
		// Kept as one expression: apk writes either SPDX expressions
		// ("MIT AND BSD-2-Clause") or space-separated names, and splitting
		// would break the former.
		p.Licenses = []string{l}
	}
	return p
}

func purl(name, version, arch string) string {
	var q packageurl.Qualifiers
	if arch != "" {
		q = packageurl.QualifiersFromMap(map[string]string{"arch": arch})
	}
	return packageurl.NewPackageURL(packageurl.TypeApk, "alpine", name, version, q, "").ToString()
}
