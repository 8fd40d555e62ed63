package npm

import (
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// fuzzParse checks that a parser never panics and that what it returns is
// well formed.
func fuzzParse(f *testing.F, parse func(string, []byte) error) {
	f.Fuzz(func(t *testing.T, content []byte) {
		_ = parse("fuzz", content)
	})
}

func FuzzPackageLock(f *testing.F) {
	f.Add([]byte(`{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","dependencies":{"b":{"version":"npm:c@2"}}}}}`))
	f.Add([]byte(`{"lockfileVersion":3,"packages":{"":{},"node_modules/@s/a":{"version":"1.0.0","dev":true,"license":"MIT"}}}`))
	fuzzParse(f, func(p string, b []byte) error { return checkPackages(parsePackageLock(p, b)) })
}

func FuzzYarnLock(f *testing.F) {
	f.Add([]byte("# yarn lockfile v1\n\n\"@a/b@^1\", c@2:\n  version \"1.0.0\"\n  dependencies:\n    x \"1\"\n"))
	f.Add([]byte("__metadata:\n  version: 6\n\"a@npm:^1\":\n  version: 1.0.0\n"))
	fuzzParse(f, func(p string, b []byte) error { return checkPackages(parseYarnLock(p, b)) })
}

func FuzzPnpmLock(f *testing.F) {
	f.Add([]byte("lockfileVersion: 5.4\npackages:\n  /a/1.0.0_b@2:\n    dev: true\n"))
	f.Add([]byte("lockfileVersion: '9.0'\npackages:\n  '@a/b@1.0.0(c@1)':\n    resolution: {}\n"))
	fuzzParse(f, func(p string, b []byte) error { return checkPackages(parsePnpmLock(p, b)) })
}

func FuzzPackageJSON(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1","license":{"type":"MIT"},"licenses":["x",{"type":"y"}]}`))
	fuzzParse(f, func(p string, b []byte) error { return checkPackages(parsePackageJSON(p, b)) })
}

// checkPackages fails loudly (via panic, which the fuzzer reports) when a
// parser returns a package without a name or version.
func checkPackages(pkgs []inventory.Package, err error) error {
	if err != nil {
		return err
	}
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.PURL == "" {
			panic("incomplete package: " + p.Name + "@" + p.Version)
		}
	}
	return nil
}
