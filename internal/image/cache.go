package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// cacheFormat changes whenever the walk's output for the same layer and
// analyzers changes (new LayerResult fields, walk rules), so older entries
// are ignored rather than misread.
const cacheFormat = 1

// layerCache stores LayerResults by diff ID and analyzer set. Entries are
// written atomically (temp file + rename), so concurrent scans sharing a
// directory never see half-written results.
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
	return filepath.Join(c.dir, key[:2], key+".json")
}

// load returns the cached result, or nil on a miss or an unreadable entry.
func (c *layerCache) load(diffID string) *inventory.LayerResult {
	if c == nil || diffID == "" {
		return nil
	}
	b, err := os.ReadFile(c.path(diffID))
	if err != nil {
		return nil
	}
	var r inventory.LayerResult
	if err := json.Unmarshal(b, &r); err != nil || r.DiffID != diffID {
		return nil
	}
	return &r
}

func (c *layerCache) store(r *inventory.LayerResult) error {
	if c == nil || r.DiffID == "" {
		return nil
	}
	b, err := json.Marshal(r)
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
