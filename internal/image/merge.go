package image

import (
	"maps"
	"path"
	"sort"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// mergedFS is the union of the layer results seen so far, keyed by path.
type mergedFS struct {
	packages map[string][]inventory.Package // by declaring file
	contents map[string][]byte
	symlinks map[string]string
	facts    map[string][]inventory.FileFact
}

// merge stacks the layer results bottom to top. A later layer hides a lower
// path when it deletes it (whiteout of the path or a parent, opaque parent
// dir) or replaces it (claims a file at the same path). A replaced package
// database yields the later layer's packages; those whose version did not
// change keep the layer that introduced them.
func merge(layers []inventory.Layer, results []*inventory.LayerResult) *inventory.Inventory {
	fs := &mergedFS{
		packages: map[string][]inventory.Package{},
		contents: map[string][]byte{},
		symlinks: map[string]string{},
		facts:    map[string][]inventory.FileFact{},
	}
	inv := &inventory.Inventory{SchemaVersion: inventory.SchemaVersion, Packages: []inventory.Package{}}
	for i, r := range results {
		ref := &inventory.LayerRef{Index: i, DiffID: r.DiffID}
		if i < len(layers) {
			ref = layers[i].Ref()
		}
		fs.apply(r, ref)
		inv.Warnings = append(inv.Warnings, r.Warnings...)
	}
	for _, pkgs := range fs.packages {
		inv.Packages = append(inv.Packages, pkgs...)
	}
	sortPackages(inv.Packages)
	for _, facts := range fs.facts {
		inv.Files = append(inv.Files, facts...)
	}
	sort.SliceStable(inv.Files, func(i, j int) bool {
		a, b := inv.Files[i], inv.Files[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Line < b.Line
	})
	inv.Contents = fs.resolvedContents()
	return inv
}

func (fs *mergedFS) apply(r *inventory.LayerResult, ref *inventory.LayerRef) {
	for _, w := range r.Whiteouts {
		fs.remove(func(p string) bool { return p == w || strings.HasPrefix(p, w+"/") })
	}
	for _, d := range r.OpaqueDirs {
		if d == "" {
			fs.remove(func(string) bool { return true })
			continue
		}
		fs.remove(func(p string) bool { return strings.HasPrefix(p, d+"/") })
	}

	// Everything this layer has a file for replaces the lower copy.
	replaced := map[string][]inventory.Package{}
	replace := func(p string) {
		if _, done := replaced[p]; done {
			return
		}
		replaced[p] = fs.packages[p]
		delete(fs.packages, p)
		delete(fs.contents, p)
		delete(fs.symlinks, p)
		delete(fs.facts, p)
	}
	for _, p := range r.Claimed {
		replace(p)
	}
	for _, pkg := range r.Packages {
		replace(pkg.Path)
	}
	for p := range r.Files {
		replace(p)
	}
	for p := range r.Symlinks {
		replace(p)
	}
	for _, f := range r.Facts {
		replace(f.Path)
	}

	for _, pkg := range r.Packages {
		pkg.Layer = ref
		if old := samePackage(replaced[pkg.Path], pkg); old != nil && old.Version == pkg.Version {
			pkg.Layer = old.Layer
		}
		fs.packages[pkg.Path] = append(fs.packages[pkg.Path], pkg)
	}
	for p, b := range r.Files {
		fs.contents[p] = b
	}
	for p, t := range r.Symlinks {
		fs.symlinks[p] = t
	}
	for _, f := range r.Facts {
		if f.Layer == nil {
			f.Layer = ref
		}
		fs.facts[f.Path] = append(fs.facts[f.Path], f)
	}
}

func samePackage(old []inventory.Package, p inventory.Package) *inventory.Package {
	for i := range old {
		if old[i].Type == p.Type && old[i].Name == p.Name && old[i].Arch == p.Arch {
			return &old[i]
		}
	}
	return nil
}

// remove deletes every path matching hidden from all maps.
func (fs *mergedFS) remove(hidden func(string) bool) {
	maps.DeleteFunc(fs.packages, func(p string, _ []inventory.Package) bool { return hidden(p) })
	maps.DeleteFunc(fs.contents, func(p string, _ []byte) bool { return hidden(p) })
	maps.DeleteFunc(fs.symlinks, func(p, _ string) bool { return hidden(p) })
	maps.DeleteFunc(fs.facts, func(p string, _ []inventory.FileFact) bool { return hidden(p) })
}

// maxSymlinkHops bounds link chains (Linux gives up after 40 as well).
const maxSymlinkHops = 40

// resolvedContents returns the kept files with claimed symlinks pointing at
// them filled in; link targets are resolved inside the image root, so
// "../../.." cannot escape it, and loops end after maxSymlinkHops.
func (fs *mergedFS) resolvedContents() map[string][]byte {
	out := make(map[string][]byte, len(fs.contents)+len(fs.symlinks))
	for p, b := range fs.contents {
		out[p] = b
	}
	for link := range fs.symlinks {
		if _, ok := out[link]; ok {
			continue
		}
		if target, ok := fs.resolve(link); ok {
			if b, ok := fs.contents[target]; ok {
				out[link] = b
			}
		}
	}
	return out
}

func (fs *mergedFS) resolve(p string) (string, bool) {
	for hops := 0; hops < maxSymlinkHops; hops++ {
		t, ok := fs.symlinks[p]
		if !ok {
			return p, true
		}
		if !strings.HasPrefix(t, "/") {
			t = path.Join("/", path.Dir(p), t)
		}
		p = strings.TrimPrefix(path.Clean("/"+t), "/")
	}
	return "", false
}

// sortPackages orders OS packages first, then by declaring path, name and
// version, so output is stable across runs.
func sortPackages(pkgs []inventory.Package) {
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		if a.IsOS() != b.IsOS() {
			return a.IsOS()
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
}
