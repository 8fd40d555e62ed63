// Package ecosystemtest holds the helpers the catalogers' tests share. It is
// imported by tests only.
package ecosystemtest

import (
	"bytes"
	"context"
	"io/fs"
	"slices"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// Analyze offers path to every analyzer as the layer walk does, fails the
// test unless exactly one claims it, and runs that one on content streamed
// like a tar entry.
func Analyze(t testing.TB, analyzers []inventory.Analyzer, path string, content []byte) ([]inventory.Package, error) {
	t.Helper()
	var claimed []inventory.Analyzer
	for _, a := range analyzers {
		if a.Claims(path, 0o644, int64(len(content))) {
			claimed = append(claimed, a)
		}
	}
	if len(claimed) != 1 {
		t.Fatalf("%s claimed by %d analyzers, want 1", path, len(claimed))
	}
	var out inventory.LayerResult
	f := inventory.NewFile(path, 0o644, int64(len(content)), bytes.NewReader(content), t.TempDir(), 0)
	defer f.Close()
	err := claimed[0].Analyze(context.Background(), f, &out)
	return out.Packages, err
}

// CheckClaim fails the test unless path, as a regular file of size bytes,
// is claimed by exactly one of the analyzers when want is true and by none
// when it is false; the same path as a directory or a symlink must never
// be claimed.
func CheckClaim(t testing.TB, analyzers []inventory.Analyzer, path string, size int64, want bool) {
	t.Helper()
	n := 0
	for _, a := range analyzers {
		if a.Claims(path, 0o644, size) {
			n++
		}
		for _, mode := range []fs.FileMode{fs.ModeDir | 0o755, fs.ModeSymlink | 0o777} {
			if a.Claims(path, mode, size) {
				t.Errorf("%s claims %s with mode %s", a.Name(), path, mode)
			}
		}
	}
	if (n == 1) != want || n > 1 {
		t.Errorf("%s claimed by %d analyzers, want claimed=%v", path, n, want)
	}
}

// IDs lists packages as sorted "name@version" strings, each followed by
// what suffix returns for it (nil: nothing), for compact assertions.
func IDs(pkgs []inventory.Package, suffix func(inventory.Package) string) []string {
	out := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		s := p.Name + "@" + p.Version
		if suffix != nil {
			s += suffix(p)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Flag returns a suffix function appending mark when the package's
// metadata key is "true" ("+dev" for development dependencies).
func Flag(key, mark string) func(inventory.Package) string {
	return func(p inventory.Package) string {
		if p.Metadata[key] == "true" {
			return mark
		}
		return ""
	}
}
