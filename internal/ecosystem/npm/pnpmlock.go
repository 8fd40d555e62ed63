package npm

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// pnpmLock is the part of pnpm-lock.yaml the cataloger reads. The package
// key format changed across lockfile versions:
//
//	v5: /name/1.2.3, /@scope/name/1.2.3_peer@2.0.0
//	v6: /name@1.2.3, /@scope/name@1.2.3(peer@2.0.0)
//	v9: name@1.2.3 (peer suffixes only in "snapshots")
type pnpmLock struct {
	LockfileVersion string                 `yaml:"lockfileVersion"`
	Packages        map[string]pnpmPackage `yaml:"packages"`
}

type pnpmPackage struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	Dev     bool   `yaml:"dev"`
}

func parsePnpmLock(path string, content []byte) ([]inventory.Package, error) {
	var lock pnpmLock
	if err := yaml.Unmarshal(content, &lock); err != nil {
		return nil, err
	}
	if lock.LockfileVersion == "" {
		return nil, errors.New("no lockfileVersion: not a pnpm lockfile")
	}
	slashKeys := lockMajor(lock.LockfileVersion) < 6
	c := newCollector(path)
	for key, p := range lock.Packages {
		name, version := p.Name, p.Version
		if name == "" || version == "" || strings.Contains(version, ":") {
			n, v := parsePnpmKey(key, slashKeys)
			name = cmpOr(name, n)
			if version == "" || strings.Contains(version, ":") {
				// Tarball and git packages record a URL-like version; the key
				// is the better source then.
				version = v
			}
		}
		if err := c.add(name, version, p.Dev, nil); err != nil {
			return nil, err
		}
	}
	return c.packages(), nil
}

// lockMajor returns the major of a lockfileVersion such as 5.4 or '9.0'.
func lockMajor(v string) int {
	major := 0
	for _, r := range strings.Trim(v, "'\" ") {
		if r < '0' || r > '9' || major > 1000 {
			break
		}
		major = major*10 + int(r-'0')
	}
	return major
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parsePnpmKey splits a packages key into name and version; it returns
// empty strings for keys that name no registry version.
func parsePnpmKey(key string, slashKeys bool) (name, version string) {
	key = strings.TrimPrefix(key, "/")
	if i := strings.IndexByte(key, '('); i >= 0 {
		key = key[:i]
	}
	if slashKeys {
		i := strings.LastIndexByte(key, '/')
		if i <= 0 {
			return "", ""
		}
		name, version = key[:i], key[i+1:]
		if j := strings.IndexByte(version, '_'); j >= 0 {
			version = version[:j]
		}
	} else {
		var ok bool
		if name, version, ok = splitNameVersion(key); !ok {
			return "", ""
		}
	}
	if strings.Contains(version, ":") || strings.Contains(name, ":") {
		return "", ""
	}
	return name, version
}
