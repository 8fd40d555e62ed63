package vulndb

import "sync"

// cache is a bounded map for lookups; when full, an arbitrary entry is
// evicted (Go's map order is random), which keeps memory bounded without
// LRU bookkeeping on every hit.
type cache[V any] struct {
	mu  sync.RWMutex
	max int
	m   map[string]V
}

func newCache[V any](max int) *cache[V] {
	return &cache[V]{max: max, m: make(map[string]V)}
}

func (c *cache[V]) get(k string) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *cache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}
