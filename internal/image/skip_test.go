package image

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func seenPaths(inv *inventory.Inventory) []string {
	var out []string
	for _, f := range inv.Files {
		out = append(out, f.Path)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Skipped files are never offered to an analyzer, whichever source; the
// layer cache keeps results with and without skips apart.
func TestSkipDirsAndFiles(t *testing.T) {
	entries := []imagetest.Entry{
		{Name: "app/main.js", Body: "x"},
		{Name: "app/node_modules/left-pad/index.js", Body: "x"},
		{Name: "srv/node_modules/a/b/c.js", Body: "x"},
		{Name: "usr/share/doc/readme", Body: "x"},
		{Name: "usr/share/doc/sub/readme", Body: "x"},
		{Name: "etc/hosts", Body: "x"},
	}
	img := imagetest.Build(t, empty.Image, nil, imagetest.Step{CreatedBy: "COPY . /", Entries: entries})
	archive := imagetest.WriteDockerArchive(t, img, "skip:1")
	root := t.TempDir()
	for _, e := range entries {
		p := filepath.Join(root, e.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(e.Body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"app/main.js", "etc/hosts", "usr/share/doc/sub/readme"}
	cache := t.TempDir()
	for _, ref := range []string{archive, "dir:" + root} {
		analyzers := []inventory.Analyzer{prefixFacts{prefix: ""}}
		// Fill the cache without skips first: a cached entry must not leak skipped files.
		if _, err := Read(context.Background(), ref, analyzers, Options{CacheDir: cache}); err != nil {
			t.Fatal(err)
		}
		inv, err := Read(context.Background(), ref, analyzers, Options{CacheDir: cache,
			SkipDirs: []string{"**/node_modules"}, SkipFiles: []string{"/usr/share/doc/*"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := seenPaths(inv); !slices.Equal(got, want) {
			t.Errorf("%s: files read %q, want %q", ref[:strings.Index(ref, ":")], got, want)
		}
	}
	if _, err := Read(context.Background(), archive, nil, Options{SkipDirs: []string{"[a"}}); err == nil || !strings.Contains(err.Error(), "--skip-dirs") {
		t.Errorf("bad pattern: %v", err)
	}
}
