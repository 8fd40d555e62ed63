// Package sbomin reads software bills of materials back into an inventory,
// so `vigil sbom-scan` can match an SBOM the way `vigil image` matches an
// image: CycloneDX (JSON 1.2–1.7, XML), SPDX (JSON 2.1–2.3, tag-value) and
// Vigil's own JSON report or inventory.
//
// Packages are rebuilt from their purls. Vigil's own SBOMs round-trip: the
// vigil:* CycloneDX properties (path, ecosystem, source package, layer)
// and the SPDX sourceInfo and comment are read back. Other tools' SBOMs
// (Trivy, Syft) are read through their purl qualifiers (distro, upstream,
// arch, epoch) and the properties or annotations those tools write. A
// layer whose position is unknown (SPDX, or a layer the document does not
// list) has LayerRef.Index -1.
package sbomin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// MaxBytes bounds the SBOM Read accepts. The largest real-world SBOMs (a
// few hundred thousand components) are well below it.
const MaxBytes = 256 << 20

// ErrNotSBOM is returned (wrapped) when the input parses but is neither a
// CycloneDX nor an SPDX document.
var ErrNotSBOM = errors.New("not a CycloneDX or SPDX document")

// Read detects the SBOM format of r and rebuilds the inventory it
// describes. Input beyond MaxBytes is an error, not a truncation.
func Read(ctx context.Context, r io.Reader) (*inventory.Inventory, error) {
	return read(ctx, r, MaxBytes)
}

// DefaultMaxPackages bounds the packages of an SBOM ReadFile and Read
// accept, unless WithMaxPackages says otherwise. Memory is proportional to
// packages, not bytes: `vigil sbom-scan` holds about 250 bytes per package
// (docs/performance.md), so 500,000 packages stay under 256 MB while the
// densest 256 MiB SBOM (Vigil JSON) lists 760,000. The largest real
// images list tens of thousands.
const DefaultMaxPackages = 500_000

// ErrTooManyPackages is returned (wrapped) for an SBOM that lists more
// packages than allowed.
var ErrTooManyPackages = errors.New("too many packages")

type maxPackagesKey struct{}

// WithMaxPackages makes the reads under ctx accept up to n packages
// (DefaultMaxPackages when n <= 0).
func WithMaxPackages(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, maxPackagesKey{}, n)
}

func maxPackages(ctx context.Context) int {
	if n, ok := ctx.Value(maxPackagesKey{}).(int); ok && n > 0 {
		return n
	}
	return DefaultMaxPackages
}

// checkPackages fails when n packages are more than ctx allows.
func checkPackages(ctx context.Context, n int) error {
	if limit := maxPackages(ctx); n > limit {
		return fmt.Errorf("the SBOM lists more than %d packages; not read: %w", limit, ErrTooManyPackages)
	}
	return nil
}

// stopReading reports whether a failed streaming read ends ReadFile
// rather than falling back to the whole read: the context is done, or the
// SBOM has too many packages (the whole read would hold them all first).
func stopReading(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, ErrTooManyPackages) {
		return err
	}
	return nil
}

// ReadFile reads the SBOM at path; errors name the file.
func ReadFile(ctx context.Context, path string) (*inventory.Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading SBOM: %w", err)
	}
	defer f.Close()
	// CycloneDX JSON and XML, Vigil JSON, SPDX 2.3 JSON and SPDX tag-value
	// files are streamed; anything else, or any error, is read whole (and
	// the whole read reports the error).
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() <= MaxBytes {
		doc, err := streamCycloneDXJSON(ctx, f)
		if err == nil {
			inv, err := build(ctx, doc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return inv, nil
		}
		if err := stopReading(ctx, err); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("reading SBOM: %w", err)
		}
		inv, err := streamVigilJSON(ctx, f)
		if err == nil {
			return inv, nil
		}
		if err := stopReading(ctx, err); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("reading SBOM: %w", err)
		}
		doc, err = streamSPDXJSON(ctx, f)
		if err == nil {
			inv, err := build(ctx, doc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return inv, nil
		}
		if err := stopReading(ctx, err); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("reading SBOM: %w", err)
		}
		doc, err = streamTextSBOM(ctx, f)
		if err == nil {
			inv, err := build(ctx, doc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return inv, nil
		}
		if err := stopReading(ctx, err); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("reading SBOM: %w", err)
		}
	}
	inv, err := Read(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, nil
}

func read(ctx context.Context, r io.Reader, limit int64) (*inventory.Inventory, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading SBOM: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("SBOM is larger than %s; not read", size(limit))
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // UTF-8 BOM some Windows tools write
	if isVigilJSON(b) {
		inv, err := readVigilJSON(b)
		if err == nil {
			err = checkPackages(ctx, len(inv.Packages))
		}
		if err != nil {
			return nil, err
		}
		return inv, nil
	}
	doc, err := decode(b)
	if err != nil {
		return nil, err
	}
	return build(ctx, doc)
}

// decode detects the format and converts it to the common document form.
func decode(b []byte) (*document, error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("empty input: %w", ErrNotSBOM)
	case trimmed[0] == '{':
		return decodeJSON(b)
	case trimmed[0] == '[':
		return nil, fmt.Errorf("a JSON array, not an SBOM object: %w", ErrNotSBOM)
	case trimmed[0] == '<':
		return decodeCycloneDXXML(b)
	case isTagValue(trimmed):
		return decodeSPDXTagValue(b)
	}
	return nil, fmt.Errorf("input is not JSON, XML or SPDX tag-value: %w", ErrNotSBOM)
}

// probe holds the fields that tell the JSON formats apart.
type probe struct {
	BOMFormat   string `json:"bomFormat"`
	SpecVersion string `json:"specVersion"`
	SPDXVersion string `json:"spdxVersion"`
	Context     any    `json:"@context"`
}

func decodeJSON(b []byte) (*document, error) {
	var p probe
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, jsonError(b, "JSON", err)
	}
	switch {
	case p.BOMFormat == "CycloneDX":
		return decodeCycloneDXJSON(b, p.SpecVersion)
	case p.SPDXVersion != "":
		return decodeSPDXJSON(b, p.SPDXVersion)
	case p.Context != nil && bytes.Contains(b, []byte("spdx.org/rdf/3")):
		return nil, errors.New("SPDX 3 (JSON-LD) is not supported; write SPDX 2.3 JSON or CycloneDX")
	}
	return nil, fmt.Errorf("JSON without \"bomFormat\": \"CycloneDX\" or \"spdxVersion\": %w", ErrNotSBOM)
}

// isTagValue reports whether the input starts like an SPDX tag-value
// document (comments and blank lines aside).
func isTagValue(b []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		return bytes.HasPrefix(line, []byte("SPDXVersion:"))
	}
	return false
}

// jsonError gives a JSON decoding error the line and column it occurred at.
func jsonError(b []byte, what string, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		line, col := position(b, syn.Offset)
		return fmt.Errorf("invalid %s at line %d, column %d: %w", what, line, col, err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "value"
		}
		if strings.Contains(field, ".") && what == "SPDX JSON" {
			// tools-golang decodes packages with their own json.Unmarshal
			// call, so the offset is relative to the package: no line.
			return fmt.Errorf("invalid %s: %s is %s, want %s", what, field, typ.Value, typ.Type)
		}
		line, col := position(b, typ.Offset)
		return fmt.Errorf("invalid %s at line %d, column %d: %s is %s, want %s", what, line, col, field, typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(b, int64(len(b)))
		return fmt.Errorf("invalid %s: truncated at line %d, column %d", what, line, col)
	}
	return fmt.Errorf("invalid %s: %w", what, err)
}

// xmlError gives an XML error its line when the decoder knows it.
func xmlError(what string, err error) error {
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("invalid %s at line %d: %s", what, syn.Line, syn.Msg)
	}
	return fmt.Errorf("invalid %s: %w", what, err)
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	prefix := b[:off]
	line = bytes.Count(prefix, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(prefix, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return line, col
}

// ctxReader stops a long read when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
