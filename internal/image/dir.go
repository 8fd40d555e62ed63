package image

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// readDir reads an unpacked root filesystem as a single layer. All access
// goes through os.Root and symlinks are recorded, never followed, so nothing
// outside root is read. Fixed paths behind symlinks (etc/os-release ->
// /etc/os-release, a package database moved elsewhere) are resolved inside
// root as in an image (resolveLinks: absolute links start at root, ".."
// stops at it) and the files found there read a second time under their
// fixed path. Results are not cached: a directory has no digest.
func readDir(ctx context.Context, ref, root string, analyzers []inventory.Analyzer, opts Options) (*inventory.Inventory, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	defer r.Close()
	w := newWalker(ctx, "", analyzers, opts)
	err = fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			w.warn("%s: %v", p, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.IsDir() && opts.skip.dir(p) {
			return fs.SkipDir
		}
		if !d.IsDir() && opts.skip.file(p) {
			return nil
		}
		if w.out.Entries++; w.out.Entries > opts.MaxEntries {
			return fmt.Errorf("more than %d entries: %w", opts.MaxEntries, ErrTooManyEntries)
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := r.Readlink(p)
			if err != nil {
				w.warn("%s: %v", p, err)
				return nil
			}
			w.symlink(p, target, fs.ModeSymlink|0o777)
		case d.Type().IsRegular():
			if err := w.dirFile(r, p, d); err != nil {
				return err
			}
		}
		return w.overBudget()
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	layers := []inventory.Layer{{Index: 0}}
	fixed := fixedPaths(analyzers)
	results := []*inventory.LayerResult{w.out}
	inv, mfs := merge(layers, results, fixed)
	aliases, warnings := findAliases(mfs, analyzers)
	if len(aliases) > 0 {
		opts.Logger.Debug("reading files behind symlinks", "aliases", aliases)
		extra, err := readDirAliases(ctx, r, analyzers, aliases, opts)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", ref, err)
		}
		inv, _ = merge(layers, withAliases(results, []*inventory.LayerResult{extra}), fixed)
	}
	inv.Artifact = inventory.Artifact{Name: ref, Layers: layers}
	inv.Warnings = append(warnings, inv.Warnings...)
	finish(inv)
	return inv, nil
}

// readDirAliases offers the PathClaimers the files at the physical paths
// their fixed paths resolve to (m, from findAliases), under the fixed path:
// the directory counterpart of readAliases. Only regular files are read.
func readDirAliases(ctx context.Context, r *os.Root, analyzers []inventory.Analyzer, m aliasMap, opts Options) (*inventory.LayerResult, error) {
	key := m.key()
	var wrapped []inventory.Analyzer
	for _, a := range analyzers {
		if _, ok := a.(inventory.PathClaimer); ok {
			wrapped = append(wrapped, aliasAnalyzer{inner: a, aliases: m, key: key})
		}
	}
	w := newWalker(ctx, "", wrapped, opts)
	for _, phys := range slices.Sorted(maps.Keys(m)) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if dir, ok := strings.CutSuffix(phys, "/"); ok {
			entries, err := fs.ReadDir(r.FS(), dir)
			if err != nil {
				w.warn("%s: %v", dir, err)
				continue
			}
			for _, e := range entries {
				if e.Type().IsRegular() {
					w.dirFile(r, dir+"/"+e.Name(), e)
				}
			}
			continue
		}
		info, err := r.Lstat(phys)
		if err != nil {
			w.warn("%s: %v", phys, err)
			continue
		}
		if info.Mode().IsRegular() {
			w.dirFile(r, phys, fs.FileInfoToDirEntry(info))
		}
	}
	return aliasResult(w.out, m), nil
}

func (w *walker) dirFile(r *os.Root, p string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		w.warn("%s: %v", p, err)
		return nil
	}
	w.out.Bytes += info.Size()
	claimers := w.claim(p, info.Mode(), info.Size())
	if len(claimers) == 0 {
		w.noteUnclaimed(p)
		return nil
	}
	// The entry was a regular file when listed; if it was swapped for a
	// link or a FIFO since, opening fails or does not block, and the type
	// is checked again once open.
	f, err := r.OpenFile(p, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		w.warn("%s: %v", p, err)
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		w.warn("%s: no longer a regular file: skipped", p)
		return nil
	}
	// A file that changes while being read is a warning, not a failure.
	if err := w.read(p, info.Mode(), info.Size(), f, claimers); err != nil {
		w.warn("%v", err)
	}
	return nil
}
