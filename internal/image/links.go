package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// maxSymlinkHops bounds link chains (Linux gives up after 40 as well).
const maxSymlinkHops = 40

// maxLinkTarget is the longest symlink target Linux stores (PATH_MAX less
// the NUL); a tar entry may carry a longer one, which no runtime could
// create, so it resolves nowhere.
const maxLinkTarget = 4095

// resolveLinks resolves p (clean, relative to the root) through links, the
// merged image's symlinks, component by component, as the kernel would
// inside a container: absolute targets start at the image root, ".." stops
// at it, chains are followed and loops end after maxSymlinkHops. It never
// touches the host filesystem. Its cost is linear in the components it
// visits (at most len(p) + maxSymlinkHops*maxLinkTarget), however the
// links are built: it runs for every file of every package listing.
func resolveLinks(links map[string]string, p string) (string, bool) {
	if len(links) == 0 {
		return p, true
	}
	rest := strings.Split(p, "/")
	// done is the resolved prefix, ends[i] the length of done after its
	// first i+1 components, so ".." pops in constant time.
	done := make([]byte, 0, len(p))
	var ends []int
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if n := len(ends); n > 0 {
				ends = ends[:n-1]
				done = done[:parentEnd(ends)]
			}
			continue
		}
		mark := len(done)
		if mark > 0 {
			done = append(done, '/')
		}
		done = append(done, c...)
		target, ok := links[string(done)]
		if !ok {
			ends = append(ends, len(done))
			continue
		}
		done = done[:mark]
		if hops++; hops > maxSymlinkHops || len(target) > maxLinkTarget {
			return "", false
		}
		if strings.HasPrefix(target, "/") {
			done, ends = done[:0], ends[:0]
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return string(done), true
}

func parentEnd(ends []int) int {
	if len(ends) == 0 {
		return 0
	}
	return ends[len(ends)-1]
}

// fixedPaths lists the paths PathClaimer analyzers name, sorted.
func fixedPaths(analyzers []inventory.Analyzer) []string {
	var paths []string
	for _, a := range analyzers {
		if pc, ok := a.(inventory.PathClaimer); ok {
			paths = append(paths, pc.FixedPaths()...)
		}
	}
	sort.Strings(paths)
	return paths
}

// aliasMap maps a physical path (or directory, ending in "/") to the fixed
// path an analyzer claims that resolves to it through a symlink.
type aliasMap map[string]string

// lookup returns the fixed path p is seen at, if any.
func (m aliasMap) lookup(p string) (string, bool) {
	if l, ok := m[p]; ok {
		return l, true
	}
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		if l, ok := m[p[:i+1]]; ok {
			return l + p[i+1:], true
		}
	}
	return "", false
}

func (m aliasMap) key() string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\n", k, m[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// findAliases returns, for the fixed paths that reach another path through
// the merged symlinks, the physical paths where unclaimed files (a
// mergedFS's) are: those must be read again under their fixed path. Paths
// that resolve to a claimed file are already read there.
func findAliases(fs *mergedFS, analyzers []inventory.Analyzer) (aliasMap, []string) {
	links := fs.symlinks
	var warnings []string
	m := aliasMap{}
	for _, fixed := range fixedPaths(analyzers) {
		dir := strings.HasSuffix(fixed, "/")
		p := strings.TrimSuffix(fixed, "/")
		phys, ok := resolveLinks(links, p)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("%s: too many levels of symbolic links", p))
			continue
		}
		if phys == p || phys == "" {
			continue
		}
		// A file an analyzer claims where it is was read there
		// (etc/redhat-release -> fedora-release, var/lib/rpm ->
		// ../../usr/lib/sysimage/rpm): no second read.
		if !dir && claimedBy(analyzers, phys) {
			continue
		}
		// A link that renames the file or directory cannot be checked
		// against the unclaimed names the walk noted: read it blindly.
		if path.Base(phys) != path.Base(p) {
			m[phys+map[bool]string{true: "/"}[dir]] = fixed
			continue
		}
		if dir {
			for u := range fs.unclaimed {
				if path.Dir(u) == phys {
					m[phys+"/"] = fixed
					break
				}
			}
			continue
		}
		if fs.unclaimed[phys] {
			m[phys] = fixed
		}
	}
	return m, warnings
}

// aliasAnalyzer offers a PathClaimer the files found at the physical paths
// its fixed paths resolve to, under the fixed path.
type aliasAnalyzer struct {
	inner   inventory.Analyzer
	aliases aliasMap
	key     string
}

func (a aliasAnalyzer) Name() string { return a.inner.Name() + "+links-" + a.key }
func (a aliasAnalyzer) Version() int { return a.inner.Version() }
func (a aliasAnalyzer) Claims(p string, mode fs.FileMode, size int64) bool {
	l, ok := a.aliases.lookup(p)
	return ok && a.inner.Claims(l, mode, size)
}

func (a aliasAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if l, ok := a.aliases.lookup(f.Path); ok {
		f.Path = l
	}
	return a.inner.Analyze(ctx, f, out)
}

// readAliases walks every layer again with the PathClaimers offered the
// aliased files only, and returns per layer what they found, under the fixed
// paths. Results are cached like any layer result (the alias set is part of
// the analyzers' names), so only a first scan pays the second read.
func readAliases(ctx context.Context, src *Source, analyzers []inventory.Analyzer, m aliasMap, opts Options) ([]*inventory.LayerResult, error) {
	results, err := walkAliased(ctx, src, analyzers, m, opts)
	if err != nil {
		return nil, err
	}
	for i, r := range results {
		results[i] = aliasResult(r, m)
	}
	return results, nil
}

// walkAliased walks every layer with the PathClaimers offered the files m
// names, under their fixed paths; each result's Claimed holds the
// physical paths.
func walkAliased(ctx context.Context, src *Source, analyzers []inventory.Analyzer, m aliasMap, opts Options) ([]*inventory.LayerResult, error) {
	key := m.key()
	var wrapped []inventory.Analyzer
	for _, a := range analyzers {
		if _, ok := a.(inventory.PathClaimer); ok {
			wrapped = append(wrapped, aliasAnalyzer{inner: a, aliases: m, key: key})
		}
	}
	return analyzeLayers(ctx, src, wrapped, opts)
}

// aliasResult keeps what an alias walk adds to a layer: what the analyzers
// found and the deletions of aliased paths, under their fixed paths.
func aliasResult(r *inventory.LayerResult, m aliasMap) *inventory.LayerResult {
	out := &inventory.LayerResult{DiffID: r.DiffID, Packages: r.Packages, Files: r.Files, Facts: r.Facts}
	for _, p := range r.Claimed {
		if l, ok := m.lookup(p); ok {
			out.Claimed = append(out.Claimed, l)
		}
	}
	for _, w := range r.Whiteouts {
		for phys, fixed := range m {
			switch phys := strings.TrimSuffix(phys, "/"); {
			case w == phys || strings.HasPrefix(phys, w+"/"):
				out.Whiteouts = append(out.Whiteouts, strings.TrimSuffix(fixed, "/"))
			case strings.HasPrefix(w, phys+"/"):
				out.Whiteouts = append(out.Whiteouts, strings.TrimSuffix(fixed, "/")+w[len(phys):])
			}
		}
	}
	return out
}

// withAliases adds each alias result to its layer's result (new values:
// cached results are not changed).
func withAliases(results, aliases []*inventory.LayerResult) []*inventory.LayerResult {
	out := make([]*inventory.LayerResult, len(results))
	for i, r := range results {
		c := *r
		a := aliases[i]
		c.Packages = append(append([]inventory.Package(nil), r.Packages...), a.Packages...)
		c.Facts = append(append([]inventory.FileFact(nil), r.Facts...), a.Facts...)
		c.Claimed = append(append([]string(nil), r.Claimed...), a.Claimed...)
		c.Whiteouts = append(append([]string(nil), r.Whiteouts...), a.Whiteouts...)
		if len(a.Files) > 0 {
			c.Files = make(map[string][]byte, len(r.Files)+len(a.Files))
			for k, v := range r.Files {
				c.Files[k] = v
			}
			for k, v := range a.Files {
				c.Files[k] = v
			}
		}
		out[i] = &c
	}
	return out
}

func claimedBy(analyzers []inventory.Analyzer, p string) bool {
	for _, a := range analyzers {
		if a.Claims(p, 0o644, 1) {
			return true
		}
	}
	return false
}
