package match

import (
	"context"
	"sync"

	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

type lookupKey struct{ eco, name string }

// cache memoises store lookups for one Matcher: Affected records (with
// their ranges prepared), advisories and enrichment. Safe for concurrent
// use; a value computed twice by racing goroutines is simply stored once.
type cache struct {
	mu          sync.RWMutex
	affected    map[lookupKey][]*record
	vulns       map[string]*vuln.Vulnerability
	enrichments map[string]vuln.Enrichment
}

func newCache() *cache {
	return &cache{
		affected:    map[lookupKey][]*record{},
		vulns:       map[string]*vuln.Vulnerability{},
		enrichments: map[string]vuln.Enrichment{},
	}
}

func (c *cache) records(ctx context.Context, store vuln.Store, cmp version.Comparator, eco, name string) ([]*record, error) {
	k := lookupKey{eco, name}
	c.mu.RLock()
	recs, ok := c.affected[k]
	c.mu.RUnlock()
	if ok {
		return recs, nil
	}
	raw, err := store.Affected(ctx, eco, name)
	if err != nil {
		return nil, err
	}
	recs = make([]*record, 0, len(raw))
	for _, a := range raw {
		// Never cross ecosystems, whatever the store returns.
		if a.Ecosystem != "" && a.Ecosystem != eco {
			continue
		}
		rec := &record{Affected: a, cmp: cmp}
		for _, r := range a.Ranges {
			rcmp := cmp
			if r.Type == "SEMVER" {
				rcmp = semverComparator(cmp)
			}
			rec.ranges = append(rec.ranges, prepareRange(rcmp, r))
		}
		recs = append(recs, rec)
	}
	if len(raw) == 0 {
		// Most packages have no record; keeping every such name would grow
		// the cache of a long-lived matcher (the service's) with every
		// image. The store answers them from its own caches.
		return recs, nil
	}
	c.mu.Lock()
	c.affected[k] = recs
	c.mu.Unlock()
	return recs, nil
}

func (c *cache) vulnerability(ctx context.Context, store vuln.Store, id string) (*vuln.Vulnerability, error) {
	c.mu.RLock()
	v, ok := c.vulns[id]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := store.Vulnerability(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.vulns[id] = v
	c.mu.Unlock()
	return v, nil
}

func (c *cache) enrichment(ctx context.Context, store vuln.Store, cve string) (vuln.Enrichment, error) {
	c.mu.RLock()
	e, ok := c.enrichments[cve]
	c.mu.RUnlock()
	if ok {
		return e, nil
	}
	e, err := store.Enrichment(ctx, cve)
	if err != nil {
		return e, err
	}
	c.mu.Lock()
	c.enrichments[cve] = e
	c.mu.Unlock()
	return e, nil
}

// semverComparator picks the comparator for an OSV SEMVER range: the
// ecosystem's own when it already follows SemVer (Go accepts the "v" and
// "go" prefixes, npm is loose), strict SemVer 2.0 otherwise.
func semverComparator(own version.Comparator) version.Comparator {
	switch own.(type) {
	case version.Go, version.SemVer:
		return own
	}
	return version.SemVer{}
}
