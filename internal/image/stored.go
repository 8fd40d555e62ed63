package image

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// KnownLayer looks up a layer result a caller keeps (the server's store) by
// diff ID; nil means unknown. Results ReadVerified returns were made from
// content whose hash matched the diff ID (walkLayer verifies it), so a
// store keyed by them is keyed by what the layers really hold.
type KnownLayer func(ctx context.Context, diffID string) (*inventory.LayerResult, error)

// ReadVerified reads ref like Read, for a caller that stores layer results
// itself, content-addressed (the service): layers known() has are not
// downloaded; the others are walked and verified against their blob
// digest and diff ID. It returns the merged inventory and every layer's
// result in order, for the caller to store the new ones.
func ReadVerified(ctx context.Context, ref string, analyzers []inventory.Analyzer, opts Options, known KnownLayer) (*inventory.Inventory, []*inventory.LayerResult, error) {
	opts = opts.withDefaults()
	skip, err := compileSkips(opts.SkipDirs, opts.SkipFiles)
	if err != nil {
		return nil, nil, err
	}
	opts.skip = skip
	analyzers = withOSRelease(analyzers)
	src, err := Open(ctx, ref, opts)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	results := make([]*inventory.LayerResult, len(src.layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for i, l := range src.layers {
		if known != nil {
			r, err := known(ctx, l.DiffID)
			if err != nil {
				return nil, nil, fmt.Errorf("layer %d (%s): %w", l.Index, l.DiffID, err)
			}
			if r != nil {
				results[i] = r
				continue
			}
		}
		g.Go(func() error {
			r, err := readLayer(gctx, l, analyzers, opts)
			if err != nil {
				return fmt.Errorf("layer %d (%s): %w", l.Index, l.DiffID, err)
			}
			results[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	// The caller stores the layers' own results; the merge sees the hard
	// links to lower layers' files resolved.
	merged, linkWarnings, err := resolveLowerLinks(ctx, src, analyzers, results, opts)
	if err != nil {
		return nil, nil, err
	}
	src.Warnings = append(src.Warnings, linkWarnings...)
	fixed := fixedPaths(analyzers)
	inv, fs := merge(src.Artifact.Layers, merged, fixed)
	aliases, warnings := findAliases(fs, analyzers)
	src.Warnings = append(src.Warnings, warnings...)
	if len(aliases) > 0 {
		extra, err := readAliases(ctx, src, analyzers, aliases, opts)
		if err != nil {
			return nil, nil, err
		}
		inv, _ = merge(src.Artifact.Layers, withAliases(merged, extra), fixed)
	}
	inv.Artifact = src.Artifact
	inv.UnredactedConfig = src.unredactedConfig
	inv.Warnings = append(src.Warnings, inv.Warnings...)
	finish(inv)
	return inv, results, nil
}

// Assemble merges stored layer results into the image's inventory as Read
// does (whiteouts, attribution, OS detection): the server re-evaluates a
// stored image from its stored layers with it, without the registry.
// Package databases reached only through a symlink into another layer, or
// replaced by a hard link to a lower layer's file (rare; Read re-reads
// those files), are not re-read here.
func Assemble(art inventory.Artifact, results []*inventory.LayerResult, analyzers []inventory.Analyzer) *inventory.Inventory {
	inv, _ := merge(art.Layers, results, fixedPaths(withOSRelease(analyzers)))
	inv.Artifact = art
	finish(inv)
	return inv
}
