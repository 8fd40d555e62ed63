package image

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// readDir reads an unpacked root filesystem as a single layer. All access
// goes through os.Root and symlinks are recorded, never followed, so nothing
// outside root is read. Results are not cached: a directory has no digest.
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
			return w.dirFile(r, p, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	layers := []inventory.Layer{{Index: 0}}
	inv, _ := merge(layers, []*inventory.LayerResult{w.out}, fixedPaths(analyzers))
	inv.Artifact = inventory.Artifact{Name: ref, Layers: layers}
	finish(inv)
	return inv, nil
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
	f, err := r.Open(p)
	if err != nil {
		w.warn("%s: %v", p, err)
		return nil
	}
	defer f.Close()
	// A file that changes while being read is a warning, not a failure.
	if err := w.read(p, info.Mode(), info.Size(), f, claimers); err != nil {
		w.warn("%v", err)
	}
	return nil
}
