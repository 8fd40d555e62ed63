// Package python catalogs Python packages: installed distributions
// (.dist-info/METADATA, .egg-info, EGG-INFO/PKG-INFO), wheel and egg
// archives, and the pins of requirements files, Pipfile.lock and
// poetry.lock.
package python

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

const (
	// metadataLimit bounds a METADATA/PKG-INFO file; the long description
	// makes some of them a few hundred kilobytes.
	metadataLimit = 8 << 20
	lockfileLimit = 32 << 20
	// archiveLimit bounds the wheels and eggs read: the archive is buffered
	// (to disk when large) to reach its central directory.
	archiveLimit = 64 << 20
	maxPackages  = 100_000
)

// Analyzers returns the Python catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{
		fileAnalyzer{name: "python-metadata", version: 1, limit: metadataLimit, claims: isMetadata, parse: parseMetadataFile},
		archiveAnalyzer{},
		fileAnalyzer{name: "python-requirements", version: 1, limit: lockfileLimit, claims: isRequirements, parse: parseRequirements},
		fileAnalyzer{name: "python-pipfile-lock", version: 1, limit: lockfileLimit, claims: isPipfileLock, parse: parsePipfileLock},
		fileAnalyzer{name: "python-poetry-lock", version: 1, limit: lockfileLimit, claims: isPoetryLock, parse: parsePoetryLock},
	}
}

// fileAnalyzer reads one claimed file whole and turns it into packages.
type fileAnalyzer struct {
	name    string
	version int
	limit   int64
	claims  func(path string) bool
	parse   func(path string, content []byte) ([]inventory.Package, error)
}

func (a fileAnalyzer) Name() string { return a.name }
func (a fileAnalyzer) Version() int { return a.version }

func (a fileAnalyzer) Claims(path string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && a.claims(path)
}

func (a fileAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	content, err := f.Bytes(a.limit)
	if err != nil {
		return fmt.Errorf("%s: %w", a.name, err)
	}
	pkgs, err := a.parse(f.Path, content)
	if err != nil {
		return fmt.Errorf("%s: parsing %s: %w", a.name, f.Path, err)
	}
	out.Packages = append(out.Packages, pkgs...)
	return nil
}

func splitDir(path string) (dir, base string) {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

// isMetadata claims the metadata file of an installed distribution:
// x.dist-info/METADATA, x.egg-info/PKG-INFO, x.egg/EGG-INFO/PKG-INFO, and
// x.egg-info when it is a single file (distutils installs).
func isMetadata(path string) bool {
	dir, base := splitDir(path)
	_, parent := splitDir(dir)
	switch base {
	case "METADATA":
		return strings.HasSuffix(parent, ".dist-info")
	case "PKG-INFO":
		return strings.HasSuffix(parent, ".egg-info") || parent == "EGG-INFO"
	}
	return strings.HasSuffix(base, ".egg-info")
}

// isRequirements claims the conventional names: requirements.txt,
// requirements-dev.txt, requirements_test.txt ...
func isRequirements(path string) bool {
	_, base := splitDir(path)
	return strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt")
}

func isPipfileLock(path string) bool {
	_, base := splitDir(path)
	return base == "Pipfile.lock"
}

func isPoetryLock(path string) bool {
	_, base := splitDir(path)
	return base == "poetry.lock"
}

// collector gathers a file's packages, once per name@version.
type collector struct {
	path  string
	pkgs  []inventory.Package
	index map[string]int
}

func newCollector(path string) *collector {
	return &collector{path: path, index: map[string]int{}}
}

// add records a package; dev marks it as a development dependency unless
// another occurrence says it is not.
func (c *collector) add(name, version string, dev bool) error {
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if name == "" || version == "" {
		return nil
	}
	key := ecosystem.NormalizeName(ecosystem.PyPI, name) + "@" + version
	if i, ok := c.index[key]; ok {
		if !dev {
			c.pkgs[i].Metadata = nil
		}
		return nil
	}
	if len(c.pkgs) >= maxPackages {
		return fmt.Errorf("more than %d packages", maxPackages)
	}
	p := newPackage(name, version, c.path, nil)
	if dev {
		p.Metadata = map[string]string{"python.dev": "true"}
	}
	c.index[key] = len(c.pkgs)
	c.pkgs = append(c.pkgs, p)
	return nil
}

// packages returns the packages sorted, independent of map order.
func (c *collector) packages() []inventory.Package {
	slices.SortFunc(c.pkgs, func(a, b inventory.Package) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
	})
	return c.pkgs
}

// newPackage keeps the declared name; the purl and matching use the PEP 503
// normalised form.
func newPackage(name, version, path string, licenses []string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypePyPI,
		Ecosystem: ecosystem.PyPI,
		PURL:      packageurl.NewPackageURL(packageurl.TypePyPi, "", ecosystem.NormalizeName(ecosystem.PyPI, name), version, nil, "").ToString(),
		Path:      path,
		Licenses:  licenses,
	}
}
