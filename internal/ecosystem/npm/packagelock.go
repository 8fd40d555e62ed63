package npm

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// packageLock covers npm lockfile versions 1 (nested "dependencies"), 2
// (both) and 3 ("packages" keyed by install path).
type packageLock struct {
	LockfileVersion int                       `json:"lockfileVersion"`
	Packages        map[string]lockPackage    `json:"packages"`
	Dependencies    map[string]lockDependency `json:"dependencies"`
}

type lockPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Dev     bool            `json:"dev"`
	Link    bool            `json:"link"`
	License json.RawMessage `json:"license"`
}

type lockDependency struct {
	Version      string                    `json:"version"`
	Dev          bool                      `json:"dev"`
	Dependencies map[string]lockDependency `json:"dependencies"`
}

func parsePackageLock(path string, content []byte) ([]inventory.Package, error) {
	var lock packageLock
	if err := json.Unmarshal(content, &lock); err != nil {
		return nil, err
	}
	c := newCollector(path)
	if lock.Packages != nil {
		if err := addLockPackages(c, lock.Packages); err != nil {
			return nil, err
		}
		return c.packages(), nil
	}
	if lock.Dependencies == nil && lock.LockfileVersion == 0 {
		return nil, errors.New("neither \"packages\" nor \"dependencies\": not an npm lockfile")
	}
	if err := addLockDependencies(c, lock.Dependencies); err != nil {
		return nil, err
	}
	return c.packages(), nil
}

// addLockPackages reads the v2/v3 "packages" map. The root "" entry is the
// project itself, keys outside node_modules are workspace sources, and
// link entries point at one of those: none of them is an installed
// dependency.
func addLockPackages(c *collector, packages map[string]lockPackage) error {
	for key, p := range packages {
		i := strings.LastIndex(key, "node_modules/")
		if i < 0 || p.Link {
			continue
		}
		name := p.Name
		if name == "" {
			name = key[i+len("node_modules/"):]
		}
		name, version := resolveAlias(name, p.Version)
		if err := c.add(name, version, p.Dev, manifestLicenses(p.License, nil)); err != nil {
			return err
		}
	}
	return nil
}

// addLockDependencies walks the v1 tree. encoding/json refuses nesting
// deeper than 10000 levels, which bounds the recursion.
func addLockDependencies(c *collector, deps map[string]lockDependency) error {
	for name, d := range deps {
		// Hand-edited v1 files sometimes key a dependency by its install path.
		if i := strings.LastIndex(name, "node_modules/"); i >= 0 {
			name = name[i+len("node_modules/"):]
		}
		n, v := resolveAlias(name, d.Version)
		if err := c.add(n, v, d.Dev, nil); err != nil {
			return err
		}
		if err := addLockDependencies(c, d.Dependencies); err != nil {
			return err
		}
	}
	return nil
}

// resolveAlias turns an aliased dependency ("version": "npm:real@1.2.3")
// into the package actually installed, which is what advisories name.
func resolveAlias(name, version string) (string, string) {
	if rest, ok := strings.CutPrefix(version, "npm:"); ok {
		if n, v, ok := splitNameVersion(rest); ok {
			return n, v
		}
	}
	return name, version
}
