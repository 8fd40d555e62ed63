package image

import (
	"archive/tar"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// An entry of another type at a lower path replaces it as a runtime's
// applier does: a non-directory over a directory hides everything under
// it, a directory over a file or symlink hides that, and a directory over
// a directory merges.
func TestEntryTypeReplacesLowerPath(t *testing.T) {
	apkDB := corpusFile(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed")
	osRelease := "ID=alpine\nVERSION_ID=3.20.3\n"
	base := []imagetest.Entry{
		{Name: "etc/", Typeflag: tar.TypeDir},
		{Name: "etc/os-release", Body: osRelease},
		{Name: "lib/", Typeflag: tar.TypeDir},
		{Name: "lib/apk/", Typeflag: tar.TypeDir},
		{Name: "lib/apk/db/", Typeflag: tar.TypeDir},
		{Name: "lib/apk/db/installed", Body: apkDB},
	}
	// The same database reached through lib -> usr/lib.
	usrMerged := []imagetest.Entry{
		{Name: "etc/os-release", Body: osRelease},
		{Name: "usr/lib/apk/db/installed", Body: apkDB},
		{Name: "lib", Typeflag: tar.TypeSymlink, Link: "usr/lib"},
	}
	tests := []struct {
		name     string
		base     []imagetest.Entry
		upper    []imagetest.Entry
		packages bool // apk packages remain
		os       string
	}{
		{"file over the database's directory", base, []imagetest.Entry{{Name: "lib/apk", Body: "x"}}, false, "alpine"},
		{"file over a grandparent", base, []imagetest.Entry{{Name: "lib", Body: "x"}}, false, "alpine"},
		{"symlink over the directory", base, []imagetest.Entry{{Name: "elsewhere/", Typeflag: tar.TypeDir}, {Name: "lib/apk", Typeflag: tar.TypeSymlink, Link: "/elsewhere"}}, false, "alpine"},
		{"hard link over the directory", base, []imagetest.Entry{{Name: "f", Body: "x"}, {Name: "lib/apk", Typeflag: tar.TypeLink, Link: "f"}}, false, "alpine"},
		{"fifo over the directory", base, []imagetest.Entry{{Name: "lib/apk/db", Typeflag: tar.TypeFifo}}, false, "alpine"},
		{"file over etc", base, []imagetest.Entry{{Name: "etc", Body: "x"}}, true, ""},
		{"directory over the directory", base, []imagetest.Entry{{Name: "lib/", Typeflag: tar.TypeDir}, {Name: "lib/apk/", Typeflag: tar.TypeDir}, {Name: "lib/apk/other", Body: "x"}}, true, "alpine"},
		{"sibling file", base, []imagetest.Entry{{Name: "lib/apkx", Body: "x"}, {Name: "lib/ap", Body: "x"}}, true, "alpine"},
		{"unchanged usr-merged image", usrMerged, []imagetest.Entry{{Name: "x", Body: "x"}}, true, "alpine"},
		{"directory over the lib symlink", usrMerged, []imagetest.Entry{{Name: "lib/", Typeflag: tar.TypeDir}, {Name: "lib/x", Body: "x"}}, false, "alpine"},
		{"directory over os-release", base, []imagetest.Entry{{Name: "etc/os-release/", Typeflag: tar.TypeDir}}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := imagetest.Build(t, empty.Image, nil,
				imagetest.Step{CreatedBy: "base", Entries: tc.base},
				imagetest.Step{CreatedBy: "replace", Entries: tc.upper})
			ref := imagetest.WriteLayout(t, img)
			cache := t.TempDir()
			for _, pass := range []string{"cold", "cached"} {
				inv, err := Read(t.Context(), ref, catalog.Packages(), Options{CacheDir: cache, TempDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, p := range inv.Packages {
					if p.Type == inventory.TypeApk {
						n++
					}
				}
				if (n > 0) != tc.packages {
					t.Errorf("%s: %d apk packages, want any=%v (warnings %q)", pass, n, tc.packages, inv.Warnings)
				}
				if inv.Artifact.OS.Family != tc.os {
					t.Errorf("%s: OS %q, want %q", pass, inv.Artifact.OS.Family, tc.os)
				}
			}
		})
	}
}
