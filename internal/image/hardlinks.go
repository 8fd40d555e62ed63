package image

import (
	"context"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// resolveLowerLinks gives each claimed hard link to a file of a lower
// layer (LayerResult.LowerLinks) what the analyzers claiming the link's
// path find in that file, as of the layer below the link's. Drivers that
// unpack a layer onto the merged root (vfs, containerd's native
// snapshotter, the temporary-mount fallback) link the lower file there;
// docker's overlay2 and containerd's overlayfs snapshotter unpack into the
// layer's own directory, where link(2) fails, and refuse the image. So the
// image runs with that content or not at all, and a package database
// replaced by such a link is not read as empty. Only paths a PathClaimer
// claims (package databases, os-release) are resolved: the lower file is
// found by walking the layers again with it offered under the link's path
// (cached like any layer result); other links stay "hard link to missing
// file". Returns new results (cached ones are not changed) and warnings.
func resolveLowerLinks(ctx context.Context, src *Source, analyzers []inventory.Analyzer, results []*inventory.LayerResult, opts Options) ([]*inventory.LayerResult, []string, error) {
	type lowerLink struct {
		layer        int
		path, target string
	}
	var links []lowerLink
	// The target's directory resolves through the lower layers' symlinks
	// (its last component does not: link(2) does not follow it), as
	// containerd's hardlinkRootPath does.
	symlinks := map[string]string{}
	for i, r := range results {
		for _, p := range slices.Sorted(maps.Keys(r.LowerLinks)) {
			t := r.LowerLinks[p]
			dir, base := path.Split(t)
			if d, ok := resolveLinks(symlinks, strings.TrimSuffix(dir, "/")); ok {
				t = path.Join(d, base)
			}
			links = append(links, lowerLink{i, p, t})
		}
		maps.Copy(symlinks, r.Symlinks)
	}
	if len(links) == 0 {
		return results, nil, nil
	}
	var claimers []inventory.Analyzer
	for _, a := range analyzers {
		if _, ok := a.(inventory.PathClaimer); ok {
			claimers = append(claimers, a)
		}
	}
	m := aliasMap{}
	for _, l := range links {
		if _, taken := m[l.target]; !taken && claimedBy(claimers, l.path) {
			m[l.target] = l.path
		}
	}
	var raw []*inventory.LayerResult
	if len(m) > 0 {
		var err error
		if raw, err = walkAliased(ctx, src, analyzers, m, opts); err != nil {
			return nil, nil, err
		}
	}
	out := slices.Clone(results)
	var warnings []string
	for _, l := range links {
		prefix := ""
		if d := results[l.layer].DiffID; d != "" {
			prefix = "layer " + d + ": "
		}
		from := -1
		// A link to its own path finds nothing: the applier removes the
		// path before linking.
		if m[l.target] == l.path && l.target != l.path && !deletes(results[l.layer], l.target) {
			from = lowerCopy(results, raw, l.layer, l.target)
		}
		if from < 0 {
			warnings = append(warnings, prefix+l.path+": hard link to missing file "+l.target)
			continue
		}
		warnings = append(warnings, prefix+l.path+": hard link to "+l.target+" of a lower layer: analyzed with that file's content"+
			" (docker's overlay2 and containerd's overlayfs snapshotter refuse to unpack such a layer)")
		c := *out[l.layer]
		found := raw[from]
		c.Packages = slices.Clone(c.Packages)
		for _, p := range found.Packages {
			if p.Path == l.path {
				c.Packages = append(c.Packages, p)
			}
		}
		c.Facts = slices.Clone(c.Facts)
		for _, f := range found.Facts {
			if f.Path == l.path {
				f.Layer = nil
				c.Facts = append(c.Facts, f)
			}
		}
		if b, ok := found.Files[l.path]; ok {
			c.Files = maps.Clone(c.Files)
			if c.Files == nil {
				c.Files = map[string][]byte{}
			}
			c.Files[l.path] = b
		}
		out[l.layer] = &c
	}
	return out, warnings, nil
}

// lowerCopy returns the highest layer below layer that holds target (its
// aliased walk claimed it), or -1 when a layer in between deleted it
// (whiteout, opaque parent, a non-directory over a parent) or none has it.
func lowerCopy(results, raw []*inventory.LayerResult, layer int, target string) int {
	for k := layer - 1; k >= 0; k-- {
		if slices.Contains(raw[k].Claimed, target) {
			return k
		}
		if deletes(results[k], target) || len(results[k].NonDirs) > 0 && newHashSet(results[k].NonDirs).atOrUnder(target, anyParent) {
			return -1
		}
	}
	return -1
}

// deletes reports whether r's whiteouts or opaque markers delete target.
func deletes(r *inventory.LayerResult, target string) bool {
	for _, w := range r.Whiteouts {
		if target == w || strings.HasPrefix(target, w+"/") {
			return true
		}
	}
	for _, d := range r.OpaqueDirs {
		if d == "" || strings.HasPrefix(target, d+"/") {
			return true
		}
	}
	return false
}

func anyParent(string) bool { return true }
