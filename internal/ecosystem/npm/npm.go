// Package npm catalogs JavaScript packages: packages installed under
// node_modules (their package.json) and the lockfiles of npm
// (package-lock.json, npm-shrinkwrap.json), Yarn (yarn.lock) and pnpm
// (pnpm-lock.yaml).
package npm

import (
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// Size limits: a package.json is small; lockfiles of large monorepos reach
// tens of megabytes.
const (
	manifestLimit = 4 << 20
	lockfileLimit = 64 << 20
	// maxPackages caps the packages one file may declare, so a crafted file
	// cannot grow the inventory without bound.
	maxPackages = 250_000
)

// Analyzers returns the npm catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{
		ecosystem.FileCataloger{ID: "npm-package-json", Rev: 1, Limit: manifestLimit, Match: isInstalledPackageJSON, Parse: parsePackageJSON},
		ecosystem.FileCataloger{ID: "npm-package-lock", Rev: 1, Limit: lockfileLimit, Match: isPackageLock, Parse: parsePackageLock},
		ecosystem.FileCataloger{ID: "npm-yarn-lock", Rev: 1, Limit: lockfileLimit, Match: isYarnLock, Parse: parseYarnLock},
		ecosystem.FileCataloger{ID: "npm-pnpm-lock", Rev: 1, Limit: lockfileLimit, Match: isPnpmLock, Parse: parsePnpmLock},
	}
}

func base(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// isInstalledPackageJSON claims node_modules/<name>/package.json and
// node_modules/@scope/<name>/package.json, not the package.json files that
// packages keep in their own subfolders (often just {"type": "module"}).
func isInstalledPackageJSON(path string) bool {
	rest, ok := strings.CutSuffix(path, "/package.json")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, "node_modules/")
	if i < 0 || (i > 0 && rest[i-1] != '/') {
		return false
	}
	dir := rest[i+len("node_modules/"):]
	if strings.HasPrefix(dir, "@") {
		scope, name, ok := strings.Cut(dir, "/")
		return ok && len(scope) > 1 && name != "" && !strings.Contains(name, "/")
	}
	return dir != "" && !strings.Contains(dir, "/")
}

func isPackageLock(path string) bool {
	b := base(path)
	return b == "package-lock.json" || b == "npm-shrinkwrap.json"
}

func isYarnLock(path string) bool { return base(path) == "yarn.lock" }
func isPnpmLock(path string) bool { return base(path) == "pnpm-lock.yaml" }

// collector gathers a file's packages, once per name@version: lockfiles
// list the same package at several places in the tree.
type collector struct {
	path string
	set  ecosystem.PackageSet
}

func newCollector(path string) *collector {
	return &collector{path: path, set: ecosystem.PackageSet{Max: maxPackages}}
}

// add records a package; dev marks it as a development dependency unless
// another occurrence says it is not. Packages without a name or version
// are skipped.
func (c *collector) add(name, version string, dev bool, licenses []string) error {
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if name == "" || version == "" {
		return nil
	}
	p := newPackage(name, version, c.path, licenses)
	if dev {
		p.Metadata = map[string]string{"npm.dev": "true"}
	}
	return c.set.Add(name+"@"+version, p, ecosystem.KeepNonDev)
}

// packages returns the collected packages sorted by name and version.
func (c *collector) packages() []inventory.Package { return c.set.Sorted() }

func newPackage(name, version, path string, licenses []string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypeNPM,
		Ecosystem: ecosystem.NPM,
		PURL:      purl(name, version),
		Path:      path,
		Licenses:  licenses,
	}
}

// purl builds pkg:npm/%40scope/name@version; npm names are lower case.
func purl(name, version string) string {
	var namespace string
	if strings.HasPrefix(name, "@") {
		if scope, rest, ok := strings.Cut(name, "/"); ok {
			namespace, name = scope, rest
		}
	}
	return packageurl.NewPackageURL(packageurl.TypeNPM, strings.ToLower(namespace), strings.ToLower(name), version, nil, "").ToString()
}

// splitNameVersion splits "name@version" or "@scope/name@version" at the
// last '@' that is not the scope marker.
func splitNameVersion(s string) (name, version string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
