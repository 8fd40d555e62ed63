package python

import (
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// checkPackages panics (which the fuzzer reports) when a parser returns a
// package without a name, version or purl.
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

func FuzzMetadata(f *testing.F) {
	f.Add([]byte("Metadata-Version: 2.1\nName: a\nVersion: 1\nLicense-Expression: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nbody\n"))
	f.Add([]byte("Name: a\nVersion: 1\nDescription: x\n   y\n\n   z\nLicense: BSD\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		checkPackages(parseMetadataFile("x.dist-info/METADATA", content))
	})
}

func FuzzRequirements(f *testing.F) {
	f.Add([]byte("a[x]==1.0 ; python_version<'3' --hash=sha256:0 \\\n  --hash=sha256:1\n# c\nb===2\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		checkPackages(parseRequirements("requirements.txt", content))
	})
}
