package ruby

import (
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// checkPackages panics (which the fuzzer reports) when a parser returns a
// package without a name or version.
func checkPackages(pkgs []inventory.Package, err error) {
	if err != nil {
		return
	}
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.PURL == "" {
			panic("incomplete package: " + p.Name + "@" + p.Version)
		}
	}
}

func FuzzGemspec(f *testing.F) {
	f.Add([]byte("# stub: a 1.0 ruby lib\nGem::Specification.new do |s|\n  s.name = \"a\".freeze\n  s.version = %q{1.0}\n  s.licenses = [\"MIT\".freeze, 'BSD']\nend\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		checkPackages(parseGemspecFile("specifications/a.gemspec", content))
	})
}

func FuzzGemfileLock(f *testing.F) {
	f.Add([]byte("GIT\n  remote: x\n  specs:\n    b (2.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    a (1.0-x86_64-linux)\n      b (>= 1)\n\nPLATFORMS\n  ruby\n\nBUNDLED WITH\n   2.3.7\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		checkPackages(parseGemfileLock("Gemfile.lock", content))
	})
}
