package image

import (
	"archive/tar"
	"strings"
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
		{"lib symlink made again", usrMerged, []imagetest.Entry{{Name: "lib", Typeflag: tar.TypeSymlink, Link: "/usr/lib"}}, true, "alpine"},
		{"os-release symlink made again", []imagetest.Entry{{Name: "usr/lib/os-release", Body: osRelease}, {Name: "etc/os-release", Typeflag: tar.TypeSymlink, Link: "../usr/lib/os-release"}},
			[]imagetest.Entry{{Name: "etc/os-release", Typeflag: tar.TypeSymlink, Link: "/usr/lib/os-release"}}, false, "alpine"},
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

// A hard link to a file of a lower layer is analyzed with that file's
// content, as drivers that unpack a layer onto the merged root (vfs,
// containerd's native snapshotter) give it; docker's overlay2 and
// containerd's overlayfs snapshotter unpack into the layer's own directory
// and refuse such a link, so the image either runs with that content or
// not at all.
func TestHardLinkToLowerLayer(t *testing.T) {
	apkDB := corpusFile(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed")
	dpkgDB := corpusFile(t, "pkgdb", "dpkg", "claircore-debian10-postgresql", "var", "lib", "dpkg", "status")
	osRelease := "ID=alpine\nVERSION_ID=3.20.3\n"
	link := func(name, target string) imagetest.Entry {
		return imagetest.Entry{Name: name, Typeflag: tar.TypeLink, Link: target}
	}
	tests := []struct {
		name     string
		layers   [][]imagetest.Entry
		wantType string // packages of this type found at wantPath
		wantPath string
		os       string
		warning  string
	}{
		{"apk database linked to a lower copy", [][]imagetest.Entry{
			{{Name: "etc/os-release", Body: osRelease}, {Name: "srv/backup/installed", Body: apkDB}},
			{link("lib/apk/db/installed", "srv/backup/installed")},
		}, inventory.TypeApk, "lib/apk/db/installed", "alpine", "hard link to srv/backup/installed of a lower layer"},
		{"dpkg status linked two layers down", [][]imagetest.Entry{
			{{Name: "opt/status", Body: dpkgDB}},
			{{Name: "x", Body: "x"}},
			{link("var/lib/dpkg/status", "/opt/status")},
		}, inventory.TypeDeb, "var/lib/dpkg/status", "", ""},
		{"os-release linked to a lower file", [][]imagetest.Entry{
			{{Name: "usr/lib/os-release", Body: osRelease}},
			{link("etc/os-release", "usr/lib/os-release")},
		}, "", "", "alpine", ""},
		{"target behind a directory symlink", [][]imagetest.Entry{
			{{Name: "etc/os-release", Body: osRelease}, {Name: "usr/lib/backup/installed", Body: apkDB}, {Name: "lib", Typeflag: tar.TypeSymlink, Link: "usr/lib"}},
			{link("lib/apk/db/installed", "lib/backup/installed")},
		}, inventory.TypeApk, "lib/apk/db/installed", "alpine", "hard link to usr/lib/backup/installed of a lower layer"},
		{"the newest lower copy counts", [][]imagetest.Entry{
			{{Name: "etc/os-release", Body: osRelease}, {Name: "srv/installed", Body: "garbage\n"}},
			{{Name: "srv/installed", Body: apkDB}},
			{link("lib/apk/db/installed", "srv/installed")},
		}, inventory.TypeApk, "lib/apk/db/installed", "alpine", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var steps []imagetest.Step
			for _, l := range tc.layers {
				steps = append(steps, imagetest.Step{CreatedBy: "x", Entries: l})
			}
			ref := imagetest.WriteLayout(t, imagetest.Build(t, empty.Image, nil, steps...))
			cache := t.TempDir()
			for _, pass := range []string{"cold", "cached"} {
				inv, err := Read(t.Context(), ref, catalog.Packages(), Options{CacheDir: cache, TempDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				if inv.Artifact.OS.Family != tc.os {
					t.Errorf("%s: OS %q, want %q", pass, inv.Artifact.OS.Family, tc.os)
				}
				if !strings.Contains(strings.Join(inv.Warnings, "\n"), tc.warning) {
					t.Errorf("%s: warnings %q, want %q", pass, inv.Warnings, tc.warning)
				}
				if tc.wantType == "" {
					continue
				}
				n := 0
				for _, p := range inv.Packages {
					if p.Type == tc.wantType && p.Path == tc.wantPath {
						n++
						if p.Layer == nil || p.Layer.Index != len(tc.layers)-1 {
							t.Fatalf("%s: %s from layer %+v, want the link's layer", pass, p.Name, p.Layer)
						}
					}
				}
				if n < 2 {
					t.Errorf("%s: %d %s packages at %s (warnings %q)", pass, n, tc.wantType, tc.wantPath, inv.Warnings)
				}
			}
		})
	}
}

// A hard link whose target a lower layer deleted, or never had, links to
// nothing: the lower database it replaced is gone and nothing is invented.
func TestHardLinkToDeletedLowerFile(t *testing.T) {
	apkDB := corpusFile(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed")
	for name, layers := range map[string][][]imagetest.Entry{
		"whited out": {
			{{Name: "lib/apk/db/installed", Body: apkDB}, {Name: "srv/installed", Body: apkDB}},
			{{Name: "srv/.wh.installed"}},
			{{Name: "lib/apk/db/installed", Typeflag: tar.TypeLink, Link: "srv/installed"}},
		},
		"parent replaced by a file": {
			{{Name: "lib/apk/db/installed", Body: apkDB}, {Name: "srv/installed", Body: apkDB}},
			{{Name: "srv", Body: "x"}},
			{{Name: "lib/apk/db/installed", Typeflag: tar.TypeLink, Link: "srv/installed"}},
		},
		"linked to itself": {
			{{Name: "lib/apk/db/installed", Body: apkDB}},
			{{Name: "lib/apk/db/installed", Typeflag: tar.TypeLink, Link: "lib/apk/db/installed"}},
		},
		"whited out in the link's layer": {
			{{Name: "lib/apk/db/installed", Body: apkDB}, {Name: "srv/installed", Body: apkDB}},
			{{Name: "srv/.wh.installed"}, {Name: "lib/apk/db/installed", Typeflag: tar.TypeLink, Link: "srv/installed"}},
		},
		"never there": {
			{{Name: "lib/apk/db/installed", Body: apkDB}},
			{{Name: "lib/apk/db/installed", Typeflag: tar.TypeLink, Link: "srv/installed"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var steps []imagetest.Step
			for _, l := range layers {
				steps = append(steps, imagetest.Step{CreatedBy: "x", Entries: l})
			}
			ref := imagetest.WriteLayout(t, imagetest.Build(t, empty.Image, nil, steps...))
			inv, err := Read(t.Context(), ref, catalog.Packages(), Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if len(inv.Packages) != 0 {
				t.Errorf("%d packages, want none", len(inv.Packages))
			}
			if !strings.Contains(strings.Join(inv.Warnings, "\n"), "lib/apk/db/installed: hard link to missing file ") {
				t.Errorf("warnings %q", inv.Warnings)
			}
		})
	}
}
