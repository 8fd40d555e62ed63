package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// cacheFormat changes whenever the walk's output for the same layer and
// analyzers changes (new LayerResult fields, walk rules), so older entries
// are ignored rather than misread.
const cacheFormat = 7

// WalkFormat is cacheFormat for stores outside this package (the service's
// stored layer results): a layer walked under another format is read again.
const WalkFormat = cacheFormat

// maxCacheEntry bounds one cache entry read: far above any real layer
// result, far below what a hostile entry could make the scan allocate.
const maxCacheEntry = 256 << 20

// cacheMagic starts every entry, followed by the SHA-256 of the payload
// (hex) and a newline: an entry whose payload was rewritten, truncated or
// extended no longer matches its checksum and is not used. The payload is
// the LayerResult in encoding/gob, which decodes about four times faster
// than JSON: decoding is most of a fully cached re-scan.
const cacheMagic = "vigil-layer-cache gob\n"

var errCacheCorrupt = errors.New("corrupt entry")

// layerCache stores LayerResults by diff ID and analyzer set. Results are
// stored only after the layer's content verified against its diff ID, so a
// key names the content that produced it. Entries are written atomically
// (temp file + rename), so concurrent scans sharing a directory never see
// half-written results.
type layerCache struct {
	dir         string
	fingerprint string
}

// newLayerCache returns nil when caching is off.
func newLayerCache(opts Options, analyzers []inventory.Analyzer) *layerCache {
	if opts.CacheDir == "" || opts.NoCache {
		return nil
	}
	names := make([]string, 0, len(analyzers))
	for _, a := range analyzers {
		names = append(names, a.Name()+"@"+strconv.Itoa(a.Version()))
	}
	sort.Strings(names)
	fp := fmt.Sprintf("format=%d\nmaxfile=%d\n", cacheFormat, opts.MaxFileBytes) + opts.skip.fingerprint()
	for _, n := range names {
		fp += n + "\n"
	}
	return &layerCache{dir: filepath.Join(opts.CacheDir, "layers"), fingerprint: fp}
}

func (c *layerCache) path(diffID string) string {
	sum := sha256.Sum256([]byte(c.fingerprint + "diffid=" + diffID))
	key := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, key[:2], key+".entry")
}

// load returns the cached result, or nil on a miss. An entry that exists
// but cannot be trusted (not a regular file, too large, checksum or diff ID
// mismatch, undecodable) is a miss with an error saying why, for a warning.
func (c *layerCache) load(diffID string) (*inventory.LayerResult, error) {
	if c == nil || diffID == "" {
		return nil, nil
	}
	p := c.path(diffID)
	b, err := readCacheFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("layer cache entry %s for %s: %w", p, diffID, err)
	}
	r, err := decodeCacheEntry(b)
	if err == nil && r.DiffID != diffID {
		err = fmt.Errorf("%w: holds diff ID %s", errCacheCorrupt, r.DiffID)
	}
	if err != nil {
		return nil, fmt.Errorf("layer cache entry %s for %s: %w", p, diffID, err)
	}
	return r, nil
}

// readCacheFile reads a cache entry without following a symlink, without
// blocking on a FIFO and without reading more than maxCacheEntry bytes. It
// marks the entry used (its modification time, which eviction goes by) at
// most once a minute.
func readCacheFile(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		if isSymlinkLoop(err) {
			return nil, fmt.Errorf("%w: a symbolic link", errCacheCorrupt)
		}
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file (%s)", errCacheCorrupt, info.Mode().Type())
	}
	if info.Size() > maxCacheEntry {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", errCacheCorrupt, info.Size(), maxCacheEntry)
	}
	b := make([]byte, info.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%w: %v", errCacheCorrupt, err)
	}
	if now := time.Now(); now.Sub(info.ModTime()) > time.Minute {
		os.Chtimes(p, now, now)
	}
	return b, nil
}

// decodeCacheEntry checks an entry's checksum and decodes its payload.
func decodeCacheEntry(b []byte) (*inventory.LayerResult, error) {
	rest, ok := bytes.CutPrefix(b, []byte(cacheMagic))
	if !ok || len(rest) < 2*sha256.Size+1 || rest[2*sha256.Size] != '\n' {
		return nil, fmt.Errorf("%w: no header", errCacheCorrupt)
	}
	want, payload := rest[:2*sha256.Size], rest[2*sha256.Size+1:]
	sum := sha256.Sum256(payload)
	var got [2 * sha256.Size]byte
	hex.Encode(got[:], sum[:])
	if !bytes.Equal(got[:], want) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCacheCorrupt)
	}
	var r inventory.LayerResult
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", errCacheCorrupt, err)
	}
	return &r, nil
}

func encodeCacheEntry(r *inventory.LayerResult) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(r); err != nil {
		return nil, err
	}
	payload := buf.Bytes()
	sum := sha256.Sum256(payload)
	b := make([]byte, 0, len(cacheMagic)+2*sha256.Size+1+len(payload))
	b = append(b, cacheMagic...)
	b = hex.AppendEncode(b, sum[:])
	b = append(b, '\n')
	return append(b, payload...), nil
}

// store writes r; the caller has verified the layer's content against
// r.DiffID.
func (c *layerCache) store(r *inventory.LayerResult) error {
	if c == nil || r.DiffID == "" {
		return nil
	}
	b, err := encodeCacheEntry(r)
	if err != nil {
		return err
	}
	p := c.path(r.DiffID)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
