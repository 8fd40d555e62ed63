package image

import (
	"archive/tar"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestResolveLinks(t *testing.T) {
	links := map[string]string{
		"etc/os-release": "../usr/lib/os-release",
		"var/lib/rpm":    "../../usr/lib/sysimage/rpm",
		"lib":            "usr/lib",
		"abs":            "/usr/lib",
		"escape":         "../../../../../../opt",
		"chain1":         "chain2/x",
		"chain2":         "/d/../e",
		"loop1":          "loop2",
		"loop2":          "/loop1",
		"self":           ".",
	}
	tests := map[string]string{
		"etc/os-release":           "usr/lib/os-release",
		"var/lib/rpm/Packages":     "usr/lib/sysimage/rpm/Packages",
		"lib/apk/db/installed":     "usr/lib/apk/db/installed",
		"abs/os-release":           "usr/lib/os-release",
		"escape/dpkg/status":       "opt/dpkg/status",
		"chain1/y":                 "e/x/y",
		"self/self/etc/os-release": "usr/lib/os-release",
		"usr/bin/../lib/x":         "usr/lib/x",
		"plain/file":               "plain/file",
	}
	for in, want := range tests {
		if got, ok := resolveLinks(links, in); !ok || got != want {
			t.Errorf("resolveLinks(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := resolveLinks(links, "loop1/x"); ok {
		t.Errorf("loop resolved to %q", got)
	}
}

func corpusFile(t *testing.T, parts ...string) string {
	b, err := os.ReadFile(corpus.Path(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Package databases and os-release behind symlinks are found as a
// container would see them, with the real catalogers.
func TestSymlinkedDatabases(t *testing.T) {
	apkDB := corpusFile(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed")
	dpkgDB := corpusFile(t, "pkgdb", "dpkg", "claircore-debian10-postgresql", "var", "lib", "dpkg", "status")
	rpmDB := corpusFile(t, "pkgdb", "rpm", "syft-redhat", "var", "lib", "rpm", "Packages")
	osRelease := "ID=alpine\nVERSION_ID=3.20.3\n"
	sym := func(name, target string) imagetest.Entry {
		return imagetest.Entry{Name: name, Typeflag: tar.TypeSymlink, Link: target}
	}
	file := func(name, body string) imagetest.Entry { return imagetest.Entry{Name: name, Body: body} }
	tests := []struct {
		name     string
		layers   [][]imagetest.Entry
		wantType string // a package type that must be found
		wantPath string // at this path
		wantOS   string
	}{
		{"os-release -> ../usr/lib/os-release", [][]imagetest.Entry{{file("usr/lib/os-release", osRelease), sym("etc/os-release", "../usr/lib/os-release")}}, "", "", "alpine"},
		{"etc is a directory link", [][]imagetest.Entry{{file("sysroot/etc/os-release", osRelease), sym("etc", "sysroot/etc")}}, "", "", "alpine"},
		{"os-release renamed through a chain", [][]imagetest.Entry{{file("rel/v1", osRelease), sym("etc/os-release", "/x/v1"), sym("x", "y/../rel")}}, "", "", "alpine"},
		{"usr-merged apk database", [][]imagetest.Entry{{file("usr/lib/apk/db/installed", apkDB), sym("lib", "usr/lib"), file("etc/os-release", osRelease)}}, inventory.TypeApk, "lib/apk/db/installed", "alpine"},
		{"link in a lower layer, database in an upper one", [][]imagetest.Entry{{sym("var/lib/dpkg", "../../opt/dpkg")}, {file("opt/dpkg/status", dpkgDB)}}, inventory.TypeDeb, "var/lib/dpkg/status", ""},
		{"dpkg status behind an escaping link", [][]imagetest.Entry{{file("opt/dpkg/status", dpkgDB), sym("var/lib/dpkg", "../../../../../opt/dpkg")}}, inventory.TypeDeb, "var/lib/dpkg/status", ""},
		{"rpm -> usr/lib/sysimage/rpm", [][]imagetest.Entry{{file("usr/lib/sysimage/rpm/Packages", rpmDB), sym("var/lib/rpm", "../../usr/lib/sysimage/rpm")}}, inventory.TypeRPM, "usr/lib/sysimage/rpm/Packages", ""},
		{"rpm database elsewhere", [][]imagetest.Entry{{file("srv/db/Packages", rpmDB), sym("var/lib/rpm", "/srv/db")}}, inventory.TypeRPM, "var/lib/rpm/Packages", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var steps []imagetest.Step
			for _, l := range tc.layers {
				steps = append(steps, imagetest.Step{CreatedBy: "RUN x", Entries: l})
			}
			img := imagetest.Build(t, empty.Image, nil, steps...)
			ref := imagetest.WriteLayout(t, img)
			cache := t.TempDir()
			for _, pass := range []string{"cold", "cached"} {
				inv, err := Read(t.Context(), ref, catalog.Packages(), Options{CacheDir: cache, TempDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				if inv.Artifact.OS.Family != tc.wantOS {
					t.Errorf("%s: OS %q, want %q", pass, inv.Artifact.OS.Family, tc.wantOS)
				}
				if tc.wantType == "" {
					continue
				}
				found := slices.ContainsFunc(inv.Packages, func(p inventory.Package) bool {
					return p.Type == tc.wantType && p.Path == tc.wantPath
				})
				if !found {
					t.Errorf("%s: no %s package at %s: %d packages, warnings %q", pass, tc.wantType, tc.wantPath, len(inv.Packages), inv.Warnings)
				}
			}
		})
	}
}

// A symlink loop on a fixed path is a warning.
func TestSymlinkLoopOnFixedPath(t *testing.T) {
	img := imagetest.Build(t, empty.Image, nil, imagetest.Step{CreatedBy: "x", Entries: []imagetest.Entry{
		{Name: "etc/os-release", Typeflag: tar.TypeSymlink, Link: "/a"},
		{Name: "a", Typeflag: tar.TypeSymlink, Link: "etc/os-release"},
	}})
	inv, err := Read(t.Context(), imagetest.WriteLayout(t, img), catalog.Packages(), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(inv.Warnings, "\n"), "etc/os-release: too many levels of symbolic links") {
		t.Errorf("warnings %q", inv.Warnings)
	}
}

// Malformed whiteouts delete nothing; a well-formed one still works.
func TestBogusWhiteouts(t *testing.T) {
	apkDB := corpusFile(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed")
	base := []imagetest.Entry{{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.20.3\n"}, {Name: "lib/apk/db/installed", Body: apkDB}}
	tests := []struct {
		whiteout string
		deletes  bool
	}{
		{"lib/apk/db/.wh.", false},
		{".wh.", false},
		{"lib/apk/db/.wh..", false},
		{".wh..", false},
		{"lib/apk/db/.wh...", false},
		{"lib/apk/db/.wh...installed", false},
		{"lib/apk/db/x/../.wh.installed", false},
		{"/lib/apk/db/.wh.installed", false},
		{"lib/apk/.wh..wh.plnk", false},
		{"lib/apk/db/.wh.installed", true},
		{"lib/.wh.apk", true},
		// Opaque markers follow the same rules: a ".." or an absolute
		// name is ignored (x/../.wh..wh..opq made the root opaque and
		// wiped every package).
		{"x/../.wh..wh..opq", false},
		{"lib/x/../.wh..wh..opq", false},
		{"/.wh..wh..opq", false},
		{"/lib/.wh..wh..opq", false},
		{"lib/.wh..wh..opq", true},
		{".wh..wh..opq", true},
	}
	for _, tc := range tests {
		t.Run(tc.whiteout, func(t *testing.T) {
			img := imagetest.Build(t, empty.Image, nil,
				imagetest.Step{CreatedBy: "base", Entries: base},
				imagetest.Step{CreatedBy: "rm", Entries: []imagetest.Entry{{Name: tc.whiteout}, {Name: "app/x", Body: "x"}}})
			inv, err := Read(t.Context(), imagetest.WriteLayout(t, img), catalog.Packages(), Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if deleted := len(inv.Packages) == 0; deleted != tc.deletes {
				t.Errorf("%d packages left; want deleted=%v", len(inv.Packages), tc.deletes)
			}
			if warned := strings.Contains(strings.Join(inv.Warnings, "\n"), "malformed whiteout"); warned == tc.deletes {
				t.Errorf("warnings %q", inv.Warnings)
			}
		})
	}
}

// Links between files analyzers claim anyway, and links that do not reach
// an unclaimed file, cause no second read of the layers.
func TestNoAliasWithoutNeed(t *testing.T) {
	fs := &mergedFS{symlinks: map[string]string{
		"etc/redhat-release": "fedora-release",
		"etc/system-release": "fedora-release",
		"etc/os-release":     "../usr/lib/os-release",
		"var/lib/rpm":        "../../usr/lib/sysimage/rpm",
		"lib":                "usr/lib",
		"bin":                "usr/bin",
	}, unclaimed: map[string]bool{"usr/lib/x/installed": true}}
	m, warnings := findAliases(fs, withOSRelease(catalog.Packages()))
	if len(m) != 0 || len(warnings) != 0 {
		t.Errorf("aliases %v, warnings %q", m, warnings)
	}
	fs.unclaimed["usr/lib/apk/db/installed"] = true
	if m, _ := findAliases(fs, withOSRelease(catalog.Packages())); m["usr/lib/apk/db/installed"] != "lib/apk/db/installed" {
		t.Errorf("aliases %v", m)
	}
}

// A hostile link cannot make resolution quadratic: a tar entry may carry a
// target of a megabyte of components (longer than any runtime stores, so
// it resolves nowhere), and one of PATH_MAX resolves in linear time.
func TestResolveLinksHostileTargets(t *testing.T) {
	long := map[string]string{"etc": strings.Repeat("x/", 500000)}
	if got, ok := resolveLinks(long, "etc/os-release"); ok {
		t.Errorf("a 1 MB link target resolved to %d bytes", len(got))
	}
	// 40 hops of 1,600 components each (4,000 bytes): linear, so this finishes at once
	// (the quadratic walk took minutes on a megabyte target).
	chain := map[string]string{}
	for i := range maxSymlinkHops - 1 {
		chain["l"+strconv.Itoa(i)] = strings.Repeat("d/", 800) + strings.Repeat("../", 801) + "l" + strconv.Itoa(i+1)
	}
	chain["l39"] = "end"
	got, ok := resolveLinks(chain, "l0/os-release")
	if ok && got != "end/os-release" || !ok {
		t.Errorf("long chain: %q, %v", got, ok)
	}
}
