// Package python catalogs Python packages: installed distributions
// (.dist-info/METADATA, .egg-info, EGG-INFO/PKG-INFO), wheel and egg
// archives, and the pins of requirements files, Pipfile.lock and
// poetry.lock.
package python

import (
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
		ecosystem.FileCataloger{ID: "python-metadata", Rev: 1, Limit: metadataLimit, Match: isMetadata, Parse: parseMetadataFile},
		archiveAnalyzer{},
		ecosystem.FileCataloger{ID: "python-requirements", Rev: 1, Limit: lockfileLimit, Match: isRequirements, Parse: parseRequirements},
		ecosystem.FileCataloger{ID: "python-pipfile-lock", Rev: 1, Limit: lockfileLimit, Match: isPipfileLock, Parse: parsePipfileLock},
		ecosystem.FileCataloger{ID: "python-poetry-lock", Rev: 1, Limit: lockfileLimit, Match: isPoetryLock, Parse: parsePoetryLock},
	}
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
	path string
	set  ecosystem.PackageSet
}

func newCollector(path string) *collector {
	return &collector{path: path, set: ecosystem.PackageSet{Max: maxPackages}}
}

// add records a package; dev marks it as a development dependency unless
// another occurrence says it is not.
func (c *collector) add(name, version string, dev bool) error {
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if name == "" || version == "" {
		return nil
	}
	p := newPackage(name, version, c.path, nil)
	if dev {
		p.Metadata = map[string]string{"python.dev": "true"}
	}
	key := ecosystem.NormalizeName(ecosystem.PyPI, name) + "@" + version
	return c.set.Add(key, p, ecosystem.KeepNonDev)
}

// packages returns the packages sorted, independent of map order.
func (c *collector) packages() []inventory.Package { return c.set.Sorted() }

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
