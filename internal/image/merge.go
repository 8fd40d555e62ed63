package image

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// mergedFS is the union of the layer results seen so far, keyed by path.
type mergedFS struct {
	packages map[string][]inventory.Package    // by declaring file
	owned    map[string][]inventory.OwnedFiles // by the package-manager file listing them
	contents map[string][]byte
	symlinks map[string]string
	facts    map[string][]inventory.FileFact
	// claimedLinks are the symlinks an analyzer claimed.
	claimedLinks map[string]bool
	// unclaimed are the LayerResult.Unclaimed files.
	unclaimed map[string]bool
}

// merge stacks the layer results bottom to top. A later layer hides a lower
// path when it deletes it (whiteout of the path or a parent, opaque parent
// dir), replaces it (claims a file at the same path) or puts an entry of
// another type there (a file over a directory: replaceByType). A replaced package
// database yields the later layer's packages; those whose version did not
// change keep the layer that introduced them.
//
// fixed are the analyzers' fixed paths (PathClaimer), whose content is
// looked up through the merged symlinks.
func merge(layers []inventory.Layer, results []*inventory.LayerResult, fixed []string) (*inventory.Inventory, *mergedFS) {
	fs := &mergedFS{
		packages:     map[string][]inventory.Package{},
		owned:        map[string][]inventory.OwnedFiles{},
		contents:     map[string][]byte{},
		symlinks:     map[string]string{},
		facts:        map[string][]inventory.FileFact{},
		claimedLinks: map[string]bool{},
		unclaimed:    map[string]bool{},
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
	// Declaring paths in order, then a sort that is cheap on nearly sorted
	// input: a cached re-scan of thousands of packages spent a tenth of its
	// time in a reflection-based stable sort.
	paths := slices.Sorted(maps.Keys(fs.packages))
	n := 0
	for _, p := range paths {
		n += len(fs.packages[p])
	}
	inv.Packages = slices.Grow(inv.Packages, n)
	for _, p := range paths {
		inv.Packages = append(inv.Packages, fs.packages[p]...)
	}
	sortPackages(inv.Packages)
	inventory.AssignOwners(inv.Packages, fs.ownedLists())
	inv.Packages = inventory.MergePythonMetadata(inv.Packages)
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
	inv.Contents = fs.resolvedContents(fixed)
	return inv, fs
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

	fs.replaceByType(r)

	// Everything this layer has a file for replaces the lower copy.
	replaced := map[string][]inventory.Package{}
	replace := func(p string) {
		if _, done := replaced[p]; done {
			return
		}
		replaced[p] = fs.packages[p]
		delete(fs.packages, p)
		delete(fs.owned, p)
		delete(fs.contents, p)
		delete(fs.symlinks, p)
		delete(fs.facts, p)
		delete(fs.claimedLinks, p)
		delete(fs.unclaimed, p)
	}
	for _, p := range r.Claimed {
		replace(p)
	}
	for _, pkg := range r.Packages {
		replace(pkg.Path)
	}
	for _, o := range r.Owned {
		replace(o.Path)
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
	for _, o := range r.Owned {
		fs.owned[o.Path] = append(fs.owned[o.Path], o)
	}
	for p, b := range r.Files {
		fs.contents[p] = b
	}
	for p, t := range r.Symlinks {
		fs.symlinks[p] = t
	}
	for _, p := range r.Unclaimed {
		replace(p)
		fs.unclaimed[p] = true
	}
	for _, p := range r.Claimed {
		if _, ok := r.Symlinks[p]; ok {
			fs.claimedLinks[p] = true
		}
	}
	for _, f := range r.Facts {
		if f.Layer == nil {
			f.Layer = ref
		}
		fs.facts[f.Path] = append(fs.facts[f.Path], f)
	}
}

// ownedLists returns the merged file lists in path order, so which of two
// lists naming the same file wins does not depend on map order. A listed
// path is also resolved through the image's symlinks: a package manager
// lists the path it installed to (apk's lib/node_modules), a usr-merged
// image holds the file elsewhere (lib -> usr/lib), where the language
// cataloger found it.
func (fs *mergedFS) ownedLists() []inventory.OwnedFiles {
	var out []inventory.OwnedFiles
	for _, p := range slices.Sorted(maps.Keys(fs.owned)) {
		for _, o := range fs.owned[p] {
			var resolved []string
			for _, f := range o.Files {
				if t, ok := resolveLinks(fs.symlinks, f); ok && t != f {
					resolved = append(resolved, t)
				}
			}
			if len(resolved) > 0 {
				// A copy: o.Files is shared with the layer result.
				o.Files = append(slices.Clone(o.Files), resolved...)
			}
			out = append(out, o)
		}
	}
	return out
}

func samePackage(old []inventory.Package, p inventory.Package) *inventory.Package {
	for i := range old {
		if old[i].Type == p.Type && old[i].Name == p.Name && old[i].Arch == p.Arch {
			return &old[i]
		}
	}
	return nil
}

// replaceByType hides the lower paths this layer's entries replace by
// their type, as the appliers that unpack a layer onto the lower ones do
// (moby's pkg/archive and containerd's archive remove what is at a path
// before creating an entry there, unless both are directories):
// everything at or under a path where this layer puts a non-directory
// (lib/apk replaced by a file or a symlink hides lib/apk/db/installed),
// and a lower file or symlink where it puts a directory (lib -> usr/lib
// replaced by a real lib/). Facts may name directories ("unneeded
// directory"), so a directory entry does not hide a fact: directories
// merge.
//
// Paths under a lower symlink are not physical: they are what a fixed path
// reached through it (readAliases), and stay while the path still resolves
// (lib -> usr/lib made again keeps lib/apk/db/installed read at
// usr/lib/apk/db/installed); findAliases decides that on the final links.
func (fs *mergedFS) replaceByType(r *inventory.LayerResult) {
	if len(r.NonDirs) > 0 {
		nonDirs := newHashSet(r.NonDirs)
		underDir := func(parent string) bool {
			_, link := fs.symlinks[parent]
			return !link
		}
		fs.remove(func(p string) bool { return nonDirs.atOrUnder(p, underDir) })
	}
	if len(r.Dirs) > 0 {
		dirs := newHashSet(r.Dirs)
		fs.removeFiles(func(p string) bool { return dirs.has(pathHash(p)) })
	}
}

// hashSet is a sorted set of path hashes with a bit filter in front: every
// merged path and each of its parents is looked up in every layer's set,
// and nearly all of them are absent, which the filter says without the
// binary search (a third of a cached re-scan's merge time without it).
type hashSet struct {
	sorted []uint64
	bits   []uint64
	mask   uint64
}

func newHashSet(sorted []uint64) hashSet {
	n := uint64(64)
	for n < uint64(len(sorted))*16 {
		n *= 2
	}
	s := hashSet{sorted: sorted, bits: make([]uint64, n/64), mask: n - 1}
	for _, h := range sorted {
		b := h & s.mask
		s.bits[b/64] |= 1 << (b % 64)
	}
	return s
}

func (s hashSet) has(h uint64) bool {
	b := h & s.mask
	if s.bits[b/64]&(1<<(b%64)) == 0 {
		return false
	}
	_, ok := slices.BinarySearch(s.sorted, h)
	return ok
}

// atOrUnder reports whether p, or one of its parents for which counts
// holds, is in the set, hashing every prefix in one pass over p.
func (s hashSet) atOrUnder(p string, counts func(parent string) bool) bool {
	h := uint64(fnvOffset64)
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && s.has(h) && counts(p[:i]) {
			return true
		}
		h ^= uint64(p[i])
		h *= fnvPrime64
	}
	return s.has(h)
}

// remove deletes every path matching hidden from all maps.
func (fs *mergedFS) remove(hidden func(string) bool) {
	fs.removeFiles(hidden)
	maps.DeleteFunc(fs.facts, func(p string, _ []inventory.FileFact) bool { return hidden(p) })
}

// removeFiles deletes every path matching hidden from all maps but facts.
func (fs *mergedFS) removeFiles(hidden func(string) bool) {
	maps.DeleteFunc(fs.packages, func(p string, _ []inventory.Package) bool { return hidden(p) })
	maps.DeleteFunc(fs.owned, func(p string, _ []inventory.OwnedFiles) bool { return hidden(p) })
	maps.DeleteFunc(fs.contents, func(p string, _ []byte) bool { return hidden(p) })
	maps.DeleteFunc(fs.symlinks, func(p, _ string) bool { return hidden(p) })
	maps.DeleteFunc(fs.claimedLinks, func(p string, _ bool) bool { return hidden(p) })
	maps.DeleteFunc(fs.unclaimed, func(p string, _ bool) bool { return hidden(p) })
}

// resolvedContents returns the kept files, plus each fixed path and claimed
// symlink that resolves through the merged symlinks to a kept file, with
// that file's content. Links resolve inside the image root, so
// "../../.." cannot escape it, and loops end after maxSymlinkHops.
func (fs *mergedFS) resolvedContents(fixed []string) map[string][]byte {
	out := make(map[string][]byte, len(fs.contents)+len(fs.claimedLinks))
	for p, b := range fs.contents {
		out[p] = b
	}
	fill := func(p string) {
		if _, ok := out[p]; ok {
			return
		}
		if target, ok := resolveLinks(fs.symlinks, p); ok {
			if b, ok := fs.contents[target]; ok {
				out[p] = b
			}
		}
	}
	for _, p := range fixed {
		if !strings.HasSuffix(p, "/") {
			fill(p)
		}
	}
	for p := range fs.claimedLinks {
		fill(p)
	}
	return out
}

// sortPackages orders OS packages first, then by declaring path, name,
// version, architecture and purl, so output is stable across runs.
// Packages equal in all of these keep their order only as far as a
// deterministic sort keeps it (the same input gives the same output).
func sortPackages(pkgs []inventory.Package) {
	slices.SortFunc(pkgs, func(a, b inventory.Package) int {
		if a.IsOS() != b.IsOS() {
			if a.IsOS() {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.Arch, b.Arch), cmp.Compare(a.PURL, b.PURL))
	})
}
