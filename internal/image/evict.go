package image

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultCacheMaxBytes is the layer cache's size cap for the zero Options.
const DefaultCacheMaxBytes = 2 << 30

// staleTempAge is how old a temporary file must be before another run
// removes it as left behind by a killed one (cache entries being written,
// unpacked archives not locked by a running scan).
const staleTempAge = 10 * time.Minute

// evict removes the least recently used entries (by modification time,
// which load refreshes) until the cache holds at most max bytes, sparing
// keep (the entries of the scan that just ran), and removes temporary
// files of writes that never finished. A concurrent scan whose entry is
// removed under it just misses.
func (c *layerCache) evict(max int64, keep map[string]bool) error {
	if c == nil || max < 0 {
		return nil
	}
	type entry struct {
		path  string
		size  int64
		mtime time.Time
	}
	var entries []entry
	var total int64
	now := time.Now()
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == c.dir && os.IsNotExist(err) {
				return fs.SkipAll
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if now.Sub(info.ModTime()) > staleTempAge {
				os.Remove(p)
			}
			return nil
		}
		total += info.Size()
		if !keep[p] {
			entries = append(entries, entry{p, info.Size(), info.ModTime()})
		}
		return nil
	})
	if err != nil || total <= max {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].mtime.Before(entries[j].mtime) })
	for _, e := range entries {
		if total <= max {
			break
		}
		if err := os.Remove(e.path); err == nil || os.IsNotExist(err) {
			total -= e.size
		}
	}
	return nil
}
