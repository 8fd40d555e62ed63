package image

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// Hard links point at content seen earlier in the stream, which is gone by
// then; claimed files up to keepFileBytes are kept in memory (at most
// keepBudget per layer) so links to them can be analyzed. The budget is
// small because with the secret scanner nearly every text file is claimed,
// and most layers have no hard links at all.
const (
	keepFileBytes = 1 << 20
	keepBudget    = 4 << 20
	// zstd frames may ask for windows up to 3.75 TB; real layers use a few MB.
	maxZstdWindow = 128 << 20
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// A layer's result holds every symlink and many paths. PAX headers let one
// tar entry carry a megabyte-long name or link target, and gzip packs
// thousands of them in a few MB (a 1.6 MB archive held 2 GB of link
// targets): names and targets longer than Linux's PATH_MAX, which no
// runtime could create, are skipped, the strings one layer records are
// capped like a cache entry, and so are its warnings.
const (
	maxNameBytes     = 4096
	maxLayerWarnings = 1000
)

// maxRecordedBytes is a variable for tests.
var maxRecordedBytes int64 = maxCacheEntry

// walkLayer streams one layer blob (gzip, zstd or plain tar) once, offering
// every entry to the analyzers, and hashes the uncompressed stream on the
// way: when layer.DiffID is set, content that does not hash to it is an
// ErrDigestMismatch, so nothing read from a tampered layer is returned (or
// cached). A broken stream is an error; problems with single entries are
// warnings. The blob is read to its end.
func walkLayer(ctx context.Context, blob io.Reader, layer inventory.Layer, analyzers []inventory.Analyzer, opts Options) (*inventory.LayerResult, error) {
	var diffID *digester
	if layer.DiffID != "" && verifyContent {
		var err error
		if diffID, err = newDigester(layer.DiffID); err != nil {
			return nil, fmt.Errorf("diff ID: %w", err)
		}
	}
	br := bufio.NewReaderSize(blob, 256<<10)
	stream, closeStream, err := decompress(br, layer.MediaType)
	if err != nil {
		return nil, err
	}
	defer closeStream()
	hashDone := func() {}
	if diffID != nil {
		var w io.Writer = diffID
		if runtime.GOMAXPROCS(0) > opts.Concurrency {
			// A core is free beside the layers read at once: hash there.
			a := newAsyncHasher(diffID)
			defer a.wait()
			w, hashDone = a, a.wait
		}
		stream = &hashingReader{r: stream, d: w}
	}
	counted := &countingReader{ctx: ctx, r: stream, limit: opts.MaxLayerBytes, progress: opts.Progress}
	w := newWalker(ctx, layer.DiffID, analyzers, opts)
	tr := tar.NewReader(counted)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, streamError(counted, err)
		}
		if w.out.Entries++; w.out.Entries > opts.MaxEntries {
			return nil, fmt.Errorf("more than %d entries: %w", opts.MaxEntries, ErrTooManyEntries)
		}
		if err := w.entry(hdr, tr); err != nil {
			return nil, streamError(counted, err)
		}
		if err := w.overBudget(); err != nil {
			return nil, err
		}
	}
	// Read to the end so the compressor's checksum is verified: a layer
	// cut short after its last tar entry is still reported.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return nil, streamError(counted, err)
	}
	// Bytes after the compressed stream's end are part of the blob (and of
	// its digest) too.
	if _, err := io.Copy(io.Discard, &ctxReader{ctx: ctx, r: br}); err != nil {
		return nil, fmt.Errorf("reading layer: %w", err)
	}
	if diffID != nil {
		hashDone()
		if err := diffID.check("uncompressed content"); err != nil {
			return nil, err
		}
	}
	counted.flushProgress()
	w.out.Bytes = counted.n
	w.out.NonDirs = sortedSet(w.out.NonDirs)
	w.out.Dirs = sortedSet(w.out.Dirs)
	return w.out, nil
}

// streamError names the cause of a failed read.
func streamError(c *countingReader, err error) error {
	if c.exceeded {
		return fmt.Errorf("more than %d uncompressed bytes: %w", c.limit, ErrLayerTooLarge)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("reading layer: truncated stream: %w", err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("reading layer: corrupt stream: %w", err)
}

// decompress detects the layer's compression by its magic bytes (media
// types are often wrong: docker-archive layers have none).
func decompress(br *bufio.Reader, mediaType string) (io.Reader, func(), error) {
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("reading layer: %w", err)
	}
	switch {
	case isGzip(magic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("reading gzip layer: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case isZstd(magic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, nil, fmt.Errorf("reading zstd layer: %w", err)
		}
		return zr, zr.Close, nil
	case strings.HasSuffix(mediaType, "gzip") || strings.HasSuffix(mediaType, "zstd"):
		return nil, nil, fmt.Errorf("layer has media type %s but is not compressed that way", mediaType)
	}
	return br, func() {}, nil
}

// walker offers the entries of one layer to the analyzers.
type walker struct {
	ctx       context.Context
	diffID    string
	analyzers []inventory.Analyzer
	opts      Options
	out       *inventory.LayerResult
	kept      map[string][]byte
	keptBytes int64
	// recorded counts the bytes of paths and link targets out holds.
	recorded int64
	// seen holds a hash of every regular file's path, to tell a hard link
	// to a missing file from one to a file whose content was not kept.
	seen     map[uint64]struct{}
	claimers []inventory.Analyzer
	// fixedNames holds the base names of the analyzers' fixed paths, and
	// of their fixed directories with a trailing "/".
	fixedNames map[string]bool
}

func newWalker(ctx context.Context, diffID string, analyzers []inventory.Analyzer, opts Options) *walker {
	names := map[string]bool{}
	for _, p := range fixedPaths(analyzers) {
		if d, ok := strings.CutSuffix(p, "/"); ok {
			names[path.Base(d)+"/"] = true
		} else {
			names[path.Base(p)] = true
		}
	}
	return &walker{ctx: ctx, diffID: diffID, analyzers: analyzers, opts: opts, fixedNames: names,
		out: &inventory.LayerResult{DiffID: diffID}, kept: map[string][]byte{}, seen: map[uint64]struct{}{}}
}

// noteUnclaimed records an unclaimed file that a fixed path may reach
// through a symlink.
func (w *walker) noteUnclaimed(p string) {
	dir, base := path.Split(p)
	if w.fixedNames[base] || (dir != "" && w.fixedNames[path.Base(dir)+"/"]) {
		w.out.Unclaimed = append(w.out.Unclaimed, p)
		w.recorded += int64(len(p))
	}
}

// overBudget fails a layer whose result would hold more than
// maxRecordedBytes of paths and link targets.
func (w *walker) overBudget() error {
	if w.recorded > maxRecordedBytes {
		return fmt.Errorf("more than %d bytes of paths and link targets: %w", maxRecordedBytes, ErrTooManyEntries)
	}
	return nil
}

func (w *walker) warn(format string, args ...any) {
	switch n := len(w.out.Warnings); {
	case n > maxLayerWarnings:
		return
	case n == maxLayerWarnings:
		format, args = "more than %d warnings; the rest are not shown", []any{maxLayerWarnings}
	}
	msg := fmt.Sprintf(format, args...)
	if w.diffID != "" {
		msg = "layer " + w.diffID + ": " + msg
	}
	w.out.Warnings = append(w.out.Warnings, msg)
}

// entry handles one tar header. Only errors reading the stream itself are
// returned.
func (w *walker) entry(hdr *tar.Header, tr io.Reader) error {
	if len(hdr.Name) > maxNameBytes || len(hdr.Linkname) > maxNameBytes {
		w.warn("%.100s...: name or link target longer than %d bytes: skipped", hdr.Name, maxNameBytes)
		return nil
	}
	p, ok := cleanPath(hdr.Name)
	if !ok {
		if strings.Contains(hdr.Name, "..") {
			w.warn("%s: %v: skipped", hdr.Name, ErrUnsafePath)
		}
		return nil
	}
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	if deleted, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		// A whiteout deletes one name in its own directory, an opaque
		// marker the lower content of its own directory; anything else
		// (".wh.", ".wh..", ".wh..." , other ".wh..wh." metadata, a name
		// with ".." or an absolute one) would delete a parent or nothing
		// a runtime would, and is ignored.
		odd := strings.HasPrefix(hdr.Name, "/") || slices.Contains(strings.Split(hdr.Name, "/"), "..")
		if base == opaqueMarker && !odd {
			w.out.OpaqueDirs = append(w.out.OpaqueDirs, dir)
			return nil
		}
		if odd || deleted == "" || deleted == "." || strings.Contains(deleted, "..") || strings.HasPrefix(deleted, whiteoutPrefix) {
			w.warn("%s: malformed whiteout: ignored", hdr.Name)
			return nil
		}
		w.out.Whiteouts = append(w.out.Whiteouts, path.Join(dir, deleted))
		return nil
	}
	// Recorded before the skip rules: a skipped path still replaces what
	// lower layers had there.
	switch hdr.Typeflag {
	case tar.TypeDir:
		w.out.Dirs = append(w.out.Dirs, pathHash(p))
	case tar.TypeReg, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		w.out.NonDirs = append(w.out.NonDirs, pathHash(p))
	}
	if w.opts.skip.file(p) {
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		return w.file(p, hdr.FileInfo().Mode(), hdr.Size, tr)
	case tar.TypeSymlink:
		w.symlink(p, hdr.Linkname, hdr.FileInfo().Mode())
	case tar.TypeLink:
		w.hardlink(p, hdr.Linkname, hdr.FileInfo().Mode())
	}
	return nil
}

func (w *walker) claim(p string, mode fs.FileMode, size int64) []inventory.Analyzer {
	w.claimers = w.claimers[:0]
	for _, a := range w.analyzers {
		if a.Claims(p, mode, size) {
			w.claimers = append(w.claimers, a)
		}
	}
	return w.claimers
}

// file offers a regular file; its content is read only when claimed.
func (w *walker) file(p string, mode fs.FileMode, size int64, r io.Reader) error {
	w.seen[pathHash(p)] = struct{}{}
	claimers := w.claim(p, mode, size)
	if len(claimers) == 0 {
		w.noteUnclaimed(p)
		return nil
	}
	return w.read(p, mode, size, r, claimers)
}

// read hands a claimed regular file to its claimers.
func (w *walker) read(p string, mode fs.FileMode, size int64, r io.Reader, claimers []inventory.Analyzer) error {
	w.out.Claimed = append(w.out.Claimed, p)
	w.recorded += int64(len(p))
	if size > w.opts.MaxFileBytes {
		w.warn("%s: %d bytes exceeds the %d-byte file limit: skipped", p, size, w.opts.MaxFileBytes)
		return nil
	}
	var f *inventory.File
	if size <= keepFileBytes && w.keptBytes+size <= keepBudget {
		content := make([]byte, size)
		if _, err := io.ReadFull(r, content); err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		w.kept[p] = content
		w.keptBytes += size
		f = inventory.NewFileBytes(p, mode, content)
	} else {
		f = inventory.NewFile(p, mode, size, r, w.opts.TempDir, w.opts.MaxFileBytes)
		if len(claimers) > 1 {
			if err := f.Buffer(); err != nil {
				f.Close()
				w.warn("%s: %v", p, err)
				return nil
			}
		}
	}
	w.run(f, claimers)
	return nil
}

func (w *walker) run(f *inventory.File, claimers []inventory.Analyzer) {
	defer f.Close()
	for _, a := range claimers {
		if err := analyze(w.ctx, a, f, w.out); err != nil {
			w.warn("%s: %s: %v", f.Path, a.Name(), err)
		}
	}
}

// symlink records every symlink, so merging can resolve paths through the
// image's links (etc/os-release -> ../usr/lib/os-release, var/lib/rpm ->
// ../../usr/lib/sysimage/rpm) inside the image root; it is never followed
// here. A claimed one also counts as claimed.
func (w *walker) symlink(p, target string, mode fs.FileMode) {
	if w.out.Symlinks == nil {
		w.out.Symlinks = map[string]string{}
	}
	w.out.Symlinks[p] = target
	w.recorded += int64(len(p) + len(target))
	if len(w.claim(p, mode|fs.ModeSymlink, 0)) != 0 {
		w.out.Claimed = append(w.out.Claimed, p)
		w.recorded += int64(len(p))
	}
}

// hardlink analyzes a claimed hard link with its target's content: an
// earlier entry of this layer. Content not kept in memory cannot be read
// again from the stream; analyzers then get a file whose reads fail, which
// is enough for those that only note a path exists (a shell, say).
func (w *walker) hardlink(p, target string, mode fs.FileMode) {
	t, _ := cleanPath(target)
	content, kept := w.kept[t]
	_, seen := w.seen[pathHash(t)]
	mode &^= fs.ModeType
	claimers := w.claim(p, mode, int64(len(content)))
	if len(claimers) == 0 {
		return
	}
	w.out.Claimed = append(w.out.Claimed, p)
	w.recorded += int64(len(p))
	switch {
	case kept:
		w.run(inventory.NewFileBytes(p, mode, content), claimers)
	case seen:
		unread := errReader{fmt.Errorf("hard link to %s: content not retained", t)}
		w.run(inventory.NewFile(p, mode, 0, unread, w.opts.TempDir, w.opts.MaxFileBytes), claimers)
	default:
		w.warn("%s: hard link to missing file %s", p, target)
	}
}

// pathHash is FNV-64a.
func pathHash(p string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(p); i++ {
		h ^= uint64(p[i])
		h *= fnvPrime64
	}
	return h
}

// FNV-64a, inlined so merging can hash every prefix of a path in one pass
// (the state after "a/b" is the hash of "a/b").
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func sortedSet(s []uint64) []uint64 {
	slices.Sort(s)
	return slices.Compact(s)
}

// countingReader counts uncompressed bytes, fails once limit is passed (the
// decompression-bomb guard) and stops when the context is cancelled.
type countingReader struct {
	ctx      context.Context
	r        io.Reader
	n, limit int64
	exceeded bool
	progress *Progress
	reported int64 // bytes already added to progress
}

// progressStep batches progress updates: tar reads in 512-byte steps, and
// one atomic add per MiB keeps the counter off the hot path.
const progressStep = 1 << 20

func (c *countingReader) flushProgress() {
	if c.progress != nil {
		c.progress.Bytes.Add(c.n - c.reported)
		c.reported = c.n
	}
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.exceeded {
		return 0, ErrLayerTooLarge
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && c.n-c.reported >= progressStep {
		c.flushProgress()
	}
	if c.n > c.limit {
		c.exceeded = true
		return n, ErrLayerTooLarge
	}
	return n, err
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
