package image

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// ErrDiffIDMismatch: a layer's uncompressed content does not hash to the
// diff ID the image config names for it.
var ErrDiffIDMismatch = errors.New("layer content does not match its diff ID")

// KnownLayer looks up a layer result a caller keeps (the server's store),
// by a diff ID that ReadVerified verified when the result was made; nil
// means unknown.
type KnownLayer func(ctx context.Context, diffID string) (*inventory.LayerResult, error)

// ReadVerified reads ref like Read, for a caller that stores layer results
// itself, content-addressed (the service): layers known() has are not
// downloaded; every other layer is walked while its uncompressed stream is
// hashed, and a layer whose hash differs from the diff ID its config
// claims fails the read, so a stored result is always keyed by what the
// layer really holds (an image claiming another image's diff ID cannot
// poison it). It returns the merged inventory and every layer's result in
// order, for the caller to store the new ones.
func ReadVerified(ctx context.Context, ref string, analyzers []inventory.Analyzer, opts Options, known KnownLayer) (*inventory.Inventory, []*inventory.LayerResult, error) {
	opts = opts.withDefaults()
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
			r, err := readVerifiedLayer(gctx, l, analyzers, opts)
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
	inv := Assemble(src.Artifact, results)
	inv.Warnings = append(src.Warnings, inv.Warnings...)
	return inv, results, nil
}

// Assemble merges layer results into the image's inventory exactly as Read
// does (whiteouts, attribution, OS detection): the server re-evaluates a
// stored image from its stored layers with it, without the registry.
func Assemble(art inventory.Artifact, results []*inventory.LayerResult) *inventory.Inventory {
	inv := merge(art.Layers, results)
	inv.Artifact = art
	finish(inv)
	return inv
}

func readVerifiedLayer(ctx context.Context, l layerBlob, analyzers []inventory.Analyzer, opts Options) (*inventory.LayerResult, error) {
	rc, err := l.open()
	if err != nil {
		return nil, fmt.Errorf("opening blob: %w", err)
	}
	defer rc.Close()
	stream, closeStream, err := decompress(bufio.NewReaderSize(rc, 256<<10), l.MediaType)
	if err != nil {
		return nil, err
	}
	defer closeStream()
	h := sha256.New()
	plain := l.Layer
	plain.MediaType = "" // the walk gets the decompressed stream
	r, err := walkLayer(ctx, &hashingReader{r: stream, h: h}, plain, analyzers, opts)
	if err != nil {
		return nil, err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != l.DiffID {
		return nil, fmt.Errorf("%w: content is %s", ErrDiffIDMismatch, got)
	}
	return r, nil
}

type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	return n, err
}
