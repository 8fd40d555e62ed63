// Package alpine owns Alpine Linux support: the apk installed-database
// cataloger and the Alpine secdb feed parser.
package alpine

import (
	"context"
	"fmt"
	"io"
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
	return []inventory.Analyzer{ecosystem.StreamCataloger{ID: "apk", Paths: []string{InstalledPath}, Match: isInstalled, Parse: parseInstalled}}
}

func isInstalled(path string) bool { return path == InstalledPath }

// apkStanza is one package record of the installed database; only the
// fields Vigil reports are kept.
type apkStanza struct {
	line, fields                          int
	name, version, arch, origin, licenses string
}

// parseInstalled reads an apk installed database: blank-line separated
// stanzas of "K:value" lines. Stanzas without a name or version are skipped
// with a warning; a line that is not "K:value" means the file is not an apk
// database and is an error.
func parseInstalled(ctx context.Context, r io.Reader, path string) ([]inventory.Package, []string, error) {
	var (
		pkgs     []inventory.Package
		warnings []string
		cur      apkStanza
	)
	flush := func() error {
		defer func() { cur = apkStanza{} }()
		if cur.fields == 0 {
			return nil
		}
		if cur.name == "" || cur.version == "" {
			warnings = append(warnings, fmt.Sprintf("%s: stanza at line %d has no package name or version; skipped", path, cur.line))
			return nil
		}
		if len(pkgs) >= maxPackages {
			return fmt.Errorf("more than %d packages", maxPackages)
		}
		pkgs = append(pkgs, cur.toPackage(path))
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
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, nil, err
	}
	return pkgs, warnings, nil
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
