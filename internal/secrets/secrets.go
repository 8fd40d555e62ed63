// Package secrets finds credentials left in container images: private keys,
// cloud and SaaS tokens, and high-entropy values assigned to password-like
// keys, in the text files of every layer and in the image config (Env,
// Labels, build history). Hits are recorded as redacted FileFacts by the
// layer walk and turned into result.Secrets for the report; the clear text
// of a secret never leaves this package.
//
// Scanning is built to add little to a scan: Claims rejects binaries,
// archives, media, documentation and package databases by path alone;
// Analyze skips files with a NUL byte, and one keyword pass over each file
// decides which lines a rule's regular expression must look at.
package secrets

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"sync"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// DefaultMaxFileBytes is the default Options.MaxFileBytes.
const DefaultMaxFileBytes = 1 << 20

// FactKind is the inventory.FileFact kind of a secret hit.
const FactKind = "secret"

// Options tune the layer-file scanner. The zero value is usable.
type Options struct {
	MaxFileBytes int64 // files larger are skipped (default 1 MiB)
}

// analyzer is the inventory.Analyzer of layer files.
type analyzer struct {
	maxBytes int64
	scanner  *scanner
}

// Analyzer returns the layer-file secret scanner. It records an
// inventory.FileFact{Kind: "secret", Path, Rule, Line, Detail: "<title>:
// <redacted match>"} in out.Facts for each hit. It claims regular files of
// at most MaxFileBytes that may be text (see Claims); Analyze reads at most
// MaxFileBytes, gives up on a file holding a NUL byte (binary) and scans the
// rest line by line.
func Analyzer(opts Options) inventory.Analyzer {
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	return &analyzer{maxBytes: opts.MaxFileBytes, scanner: defaultScanner()}
}

// Name carries a non-default size limit, so layer results cached with one
// limit are not reused with another (the cache keys on names and versions).
func (a *analyzer) Name() string {
	if a.maxBytes != DefaultMaxFileBytes {
		return "secrets(max=" + strconv.FormatInt(a.maxBytes, 10) + ")"
	}
	return "secrets"
}

// Version is bumped whenever a rule, a skip list or the fact format
// changes, so cached layer results are recomputed.
func (a *analyzer) Version() int { return 1 }

// Claims accepts non-empty regular files up to the size limit whose path
// does not rule them out (see skipPath).
func (a *analyzer) Claims(path string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size > 0 && size <= a.maxBytes && !skipPath(path)
}

func (a *analyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	text, err := a.read(f, bp)
	if err != nil {
		return err
	}
	if bytes.IndexByte(text, 0) >= 0 {
		return nil // binary
	}
	for _, h := range a.scanner.scan(text, isConfigFile(f.Path)) {
		out.Facts = append(out.Facts, inventory.FileFact{
			Kind:   FactKind,
			Path:   f.Path,
			Rule:   h.rule.ID,
			Line:   h.line,
			Detail: h.rule.Title + ": " + h.display,
		})
	}
	return nil
}

// bufPool recycles read buffers: the scanner keeps no reference to the
// text (facts hold copies), and nearly every text file of an image passes
// through here, so allocating and zeroing a buffer per file showed in
// profiles.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// read returns at most maxBytes of f, in *buf (grown as needed). Content
// the walk already buffered is read from memory.
func (a *analyzer) read(f *inventory.File, buf *[]byte) ([]byte, error) {
	n := min(f.Size, a.maxBytes)
	if int64(cap(*buf)) < n {
		*buf = make([]byte, 0, n)
	}
	b := (*buf)[:n]
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	// Binaries show a NUL byte early: stop after the first block instead of
	// copying the whole file (executables without an extension are claimed).
	head := min(n, sniffBytes)
	m, err := io.ReadFull(r, b[:head])
	if err == nil && bytes.IndexByte(b[:m], 0) >= 0 {
		return b[:m], nil
	}
	if err == nil && head < n {
		var rest int
		rest, err = io.ReadFull(r, b[head:])
		m += rest
	}
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	return b[:m], nil
}

// sniffBytes is how much of a file is read before deciding it is binary.
const sniffBytes = 8 << 10
