package image

import (
	"context"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func apk(name, version string) inventory.Package {
	return inventory.Package{Type: inventory.TypeApk, Name: name, Version: version, Path: "lib/apk/db/installed"}
}

func TestMergeAttribution(t *testing.T) {
	layers := []inventory.Layer{{Index: 0, DiffID: "sha256:0", Base: true}, {Index: 1, DiffID: "sha256:1"}, {Index: 2, DiffID: "sha256:2"}, {Index: 3, DiffID: "sha256:3"}}
	results := []*inventory.LayerResult{
		{DiffID: "sha256:0", Packages: []inventory.Package{apk("musl", "1.1"), apk("zlib", "1.2"), apk("busybox", "1.30")},
			Files: map[string][]byte{"etc/os-release": []byte("ID=alpine\n"), "opt/app/conf": []byte("x")}},
		// Rewrites the database: zlib upgraded, busybox removed, curl added.
		{DiffID: "sha256:1", Packages: []inventory.Package{apk("musl", "1.1"), apk("zlib", "1.3"), apk("curl", "8.0")},
			Claimed: []string{"lib/apk/db/installed"}},
		{DiffID: "sha256:2", Packages: []inventory.Package{{Type: inventory.TypeNPM, Name: "left-pad", Version: "1.0", Path: "app/node_modules/left-pad/package.json"}},
			Facts: []inventory.FileFact{{Kind: "setuid", Path: "usr/bin/su"}}},
		// Deletes the app dir, hides opt/app, and chmods usr/bin/su (claimed, no fact).
		{DiffID: "sha256:3", Whiteouts: []string{"app"}, OpaqueDirs: []string{"opt"}, Claimed: []string{"usr/bin/su"}},
	}
	inv, _ := merge(layers, results, nil)
	want := map[string]int{"musl": 0, "zlib": 1, "curl": 1}
	if len(inv.Packages) != len(want) {
		t.Fatalf("packages = %+v", inv.Packages)
	}
	for _, p := range inv.Packages {
		idx, ok := want[p.Name]
		if !ok || p.Layer == nil || p.Layer.Index != idx {
			t.Errorf("%s %s: layer %+v, want %d", p.Name, p.Version, p.Layer, idx)
		}
	}
	if musl := inv.Packages[1]; musl.Name != "musl" || !musl.Layer.Base {
		t.Errorf("musl should keep the base layer's ref: %+v", musl.Layer)
	}
	if len(inv.Files) != 0 {
		t.Errorf("setuid fact survived the chmod layer: %+v", inv.Files)
	}
	if _, ok := inv.Contents["opt/app/conf"]; ok {
		t.Error("opaque dir did not hide opt/app/conf")
	}
	if _, ok := inv.Contents["etc/os-release"]; !ok {
		t.Error("etc/os-release lost")
	}
}

func TestMergeEmptiedDatabase(t *testing.T) {
	results := []*inventory.LayerResult{
		{DiffID: "a", Packages: []inventory.Package{apk("musl", "1.1")}},
		{DiffID: "b", Claimed: []string{"lib/apk/db/installed"}}, // rewritten, now lists nothing
	}
	if inv, _ := merge(nil, results, nil); len(inv.Packages) != 0 {
		t.Errorf("packages = %+v, want none", inv.Packages)
	}
}

func TestSortPackages(t *testing.T) {
	pkgs := []inventory.Package{
		{Type: inventory.TypeNPM, Name: "a", Path: "a"},
		{Type: inventory.TypeDeb, Name: "zlib", Path: "var/lib/dpkg/status"},
		{Type: inventory.TypeDeb, Name: "bash", Path: "var/lib/dpkg/status"},
	}
	sortPackages(pkgs)
	if pkgs[0].Name != "bash" || pkgs[1].Name != "zlib" || pkgs[2].Name != "a" {
		t.Errorf("order = %v", pkgs)
	}
}

func TestReadDir(t *testing.T) {
	root := t.TempDir()
	apkDB, err := os.ReadFile(corpus.Path(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed"))
	if err != nil {
		t.Fatal(err)
	}
	osRelease, err := os.ReadFile(corpus.Path(t, "pkgdb", "apk", "grype-alpine-match-coverage", "etc", "os-release"))
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "lib/apk/db/installed"), apkDB)
	mustWrite(t, filepath.Join(root, "usr/lib/os-release"), osRelease)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	if err := os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc/os-release")); err != nil {
		t.Fatal(err)
	}
	// A symlink leaving the root must not be followed.
	outside := t.TempDir()
	mustWrite(t, filepath.Join(outside, "installed"), []byte("P:evil\nV:6.6.6\n"))
	os.MkdirAll(filepath.Join(root, "other/lib/apk"), 0o755)
	if err := os.Symlink(filepath.Join(outside), filepath.Join(root, "other/lib/apk/db")); err != nil {
		t.Fatal(err)
	}
	inv, err := Read(context.Background(), "dir:"+root, []inventory.Analyzer{&apkCounter{}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Artifact.OS.Family != "alpine" || len(inv.Packages) == 0 {
		t.Fatalf("OS %+v, %d packages", inv.Artifact.OS, len(inv.Packages))
	}
	for _, p := range inv.Packages {
		if p.Name == "evil" {
			t.Error("followed a symlink out of the root")
		}
		if p.Layer == nil || p.Ecosystem == "" {
			t.Errorf("%s: layer %v ecosystem %q", p.Name, p.Layer, p.Ecosystem)
		}
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Ownership follows the merged filesystem: a file list deleted or
// replaced by a later layer no longer owns what it listed, and a list
// only owns for an installed package.
func TestMergeOwners(t *testing.T) {
	const list = "var/lib/dpkg/info/python3-six.list"
	const meta = "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"
	deb := inventory.Package{Type: inventory.TypeDeb, Name: "python3-six", Version: "1.16.0-4", Path: "var/lib/dpkg/status"}
	six := inventory.Package{Type: inventory.TypePyPI, Name: "six", Version: "1.16.0", Path: meta}
	owned := []inventory.OwnedFiles{{Path: list, Owner: inventory.Owner{Type: inventory.TypeDeb, Name: "python3-six"}, Files: []string{meta}}}
	ownerOf := func(results ...*inventory.LayerResult) *inventory.Owner {
		t.Helper()
		inv, _ := merge(nil, results, nil)
		for _, p := range inv.Packages {
			if p.Name == "six" {
				return p.Owner
			}
		}
		t.Fatalf("six missing: %+v", inv.Packages)
		return nil
	}
	base := &inventory.LayerResult{DiffID: "sha256:0", Packages: []inventory.Package{deb, six}, Owned: owned}
	if o := ownerOf(base); o == nil || *o != owned[0].Owner {
		t.Errorf("owner = %+v", o)
	}
	if o := ownerOf(base, &inventory.LayerResult{DiffID: "sha256:1", Whiteouts: []string{list}}); o != nil {
		t.Errorf("deleted list still owns: %+v", o)
	}
	if o := ownerOf(base, &inventory.LayerResult{DiffID: "sha256:1", Claimed: []string{list}}); o != nil {
		t.Errorf("replaced (now empty) list still owns: %+v", o)
	}
	noDeb := &inventory.LayerResult{DiffID: "sha256:0", Packages: []inventory.Package{six}, Owned: owned}
	if o := ownerOf(noDeb); o != nil {
		t.Errorf("list of a package not installed owns: %+v", o)
	}
}

// apk lists lib/node_modules/...; in a usr-merged image (lib -> usr/lib)
// the npm cataloger finds the module under usr/lib, which is the same file.
func TestMergeOwnersThroughSymlinks(t *testing.T) {
	const listed = "lib/node_modules/x/package.json"
	res := &inventory.LayerResult{
		DiffID: "sha256:0",
		Packages: []inventory.Package{
			apk("x", "1.0-r0"),
			{Type: inventory.TypeNPM, Name: "x", Version: "1.0", Path: "usr/lib/node_modules/x/package.json"},
		},
		Owned:    []inventory.OwnedFiles{{Path: "lib/apk/db/installed", Owner: inventory.Owner{Type: inventory.TypeApk, Name: "x"}, Files: []string{listed}}},
		Symlinks: map[string]string{"lib": "usr/lib"},
	}
	inv, _ := merge(nil, []*inventory.LayerResult{res}, nil)
	for _, p := range inv.Packages {
		if p.Type == inventory.TypeNPM && (p.Owner == nil || p.Owner.Name != "x") {
			t.Errorf("owner = %+v", p.Owner)
		}
	}
	if got := res.Owned[0].Files; len(got) != 1 || got[0] != listed {
		t.Errorf("layer result changed: %q", got)
	}
}

// The inlined hash is FNV-64a, and a path's prefixes hash as the paths do.
func TestPathHash(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte("usr/lib/apk"))
	if pathHash("usr/lib/apk") != h.Sum64() {
		t.Error("pathHash is not FNV-64a")
	}
	for _, p := range []string{"usr", "usr/lib", "usr/lib/apk"} {
		if !newHashSet([]uint64{pathHash(p)}).atOrUnder("usr/lib/apk/db/installed", anyParent) {
			t.Errorf("%s not found as a parent", p)
		}
	}
	if newHashSet([]uint64{pathHash("usr/li")}).atOrUnder("usr/lib/apk", anyParent) {
		t.Error("usr/li is not a parent of usr/lib/apk")
	}
}
