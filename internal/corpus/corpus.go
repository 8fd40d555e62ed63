// Package corpus locates the shared real-data corpus (../shared/corpus) for
// tests and benchmarks.
package corpus

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the corpus root. It honours VIGIL_CORPUS, else looks for
// shared/corpus beside the repository. When the corpus is absent the test is
// skipped with a clear message, except under CI=true where it fails: CI
// must always exercise the real data.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("VIGIL_CORPUS"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	// internal/corpus/corpus.go -> repo root -> ../shared/corpus
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(d, "MANIFEST.md")); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("corpus not found at %s (set VIGIL_CORPUS); required under CI=true", d)
		}
		tb.Skipf("corpus not found at %s; set VIGIL_CORPUS to run tests on real data", d)
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		tb.Fatal(err)
	}
	return abs
}

// Path joins elements onto the corpus root.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{Dir(tb)}, elem...)...)
}
