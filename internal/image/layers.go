package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// analyzeLayers produces every layer's result, from the cache when possible
// (without opening the blob), else by walking the layer; opts.Concurrency
// layers at a time.
func analyzeLayers(ctx context.Context, src *Source, analyzers []inventory.Analyzer, opts Options) ([]*inventory.LayerResult, error) {
	cache := newLayerCache(opts, analyzers)
	results := make([]*inventory.LayerResult, len(src.layers))
	if opts.Progress != nil {
		opts.Progress.LayersTotal.Add(int64(len(src.layers)))
	}
	var stored atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	order, limit := src.streamOrder, opts.Concurrency
	if order != nil {
		limit = 1
	} else {
		order = make([]int, len(src.layers))
		for i := range order {
			order[i] = i
		}
	}
	g.SetLimit(limit)
	for _, i := range order {
		l := src.layers[i]
		r, err := cache.load(l.DiffID)
		if err != nil {
			opts.Logger.Warn("layer cache entry ignored", "diff_id", l.DiffID, "err", err)
			src.Warnings = append(src.Warnings, err.Error()+": ignored, layer read again")
		}
		if r != nil {
			results[i] = r
			continue
		}
		g.Go(func() error {
			r, err := readLayer(gctx, l, analyzers, opts)
			if err != nil {
				return fmt.Errorf("layer %d (%s): %w", l.Index, l.DiffID, err)
			}
			if err := cache.store(r); err != nil {
				opts.Logger.Warn("layer cache write failed", "diff_id", l.DiffID, "err", err)
			} else {
				stored.Add(1)
			}
			results[i] = r
			opts.Progress.layerDone(l.Index, l.DiffID, r.Bytes, len(r.Packages), false)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Eviction walks the cache directory: only after this scan wrote to
	// it, so fully cached re-scans stay fast.
	if cache != nil && stored.Load() > 0 {
		keep := map[string]bool{}
		for _, l := range src.layers {
			keep[cache.path(l.DiffID)] = true
		}
		if err := cache.evict(opts.CacheMaxBytes, keep); err != nil {
			opts.Logger.Warn("layer cache eviction failed", "err", err)
		}
	}
	return results, nil
}

func readLayer(ctx context.Context, l layerBlob, analyzers []inventory.Analyzer, opts Options) (*inventory.LayerResult, error) {
	opts.Logger.Debug("reading layer", "index", l.Index, "diff_id", l.DiffID, "size", l.Size)
	rc, err := l.open()
	if err != nil {
		return nil, fmt.Errorf("opening blob: %w", err)
	}
	defer rc.Close()
	var blob io.Reader = rc
	var d *digester
	// An uncompressed blob's digest is its diff ID, which the walk checks.
	switch {
	case l.blobDigest == "" || l.blobDigest == l.DiffID || !verifyContent:
	case l.sourceVerified:
		blob = &sourceVerifiedReader{r: rc}
	default:
		if d, err = newDigester(l.blobDigest); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
		blob = &hashingReader{r: rc, d: d}
	}
	r, err := walkLayer(ctx, blob, l.Layer, analyzers, opts)
	if err != nil {
		// A blob that is not the one the manifest names explains a broken
		// stream better than the stream error does.
		if (d != nil || l.sourceVerified) && ctx.Err() == nil {
			_, cerr := io.CopyN(io.Discard, blob, max(l.Size, 0)+1)
			if d != nil {
				cerr = d.check("blob")
			}
			if errors.Is(cerr, ErrDigestMismatch) {
				return nil, cerr
			}
		}
		return nil, err
	}
	if d != nil {
		if err := d.check("blob"); err != nil {
			return nil, err
		}
	}
	return r, nil
}
