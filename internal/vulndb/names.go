package vulndb

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// namesAfterMisses is how many lookups of packages the DB has no record of
// it takes before the names index is built: a CLI scan of one image never
// pays for it; a service re-evaluating thousands of images with their own
// packages stops asking SQLite for each of them.
const namesAfterMisses = 2000

// names is the set of (ecosystem, package) keys the DB has records for,
// as sorted 64-bit hashes (8 bytes a key; a hash collision only costs a
// lookup that finds nothing).
type names struct {
	misses atomic.Int64
	once   sync.Once
	ready  atomic.Bool
	seed   maphash.Seed
	hashes []uint64
}

func (n *names) hash(eco, pkg string) uint64 {
	var h maphash.Hash
	h.SetSeed(n.seed)
	h.WriteString(eco)
	h.WriteByte(0)
	h.WriteString(pkg)
	return h.Sum64()
}

// absent reports whether the DB surely has no record of the package.
func (n *names) absent(eco, pkg string) bool {
	if !n.ready.Load() {
		return false
	}
	_, found := slices.BinarySearch(n.hashes, n.hash(eco, pkg))
	return !found
}

// missed counts a lookup that found nothing and builds the index once
// enough have. A failed build leaves the index off (lookups stay correct).
func (d *DB) missed(ctx context.Context) {
	if d.names.misses.Add(1) < namesAfterMisses {
		return
	}
	d.names.once.Do(func() {
		n := &d.names
		n.seed = maphash.MakeSeed()
		rows, err := d.db.QueryContext(context.WithoutCancel(ctx), `SELECT DISTINCT ecosystem, package FROM affected`)
		if err != nil {
			return
		}
		defer rows.Close()
		var hs []uint64
		for rows.Next() {
			var eco, pkg string
			if err := rows.Scan(&eco, &pkg); err != nil {
				return
			}
			hs = append(hs, n.hash(eco, pkg))
		}
		if rows.Err() != nil {
			return
		}
		slices.Sort(hs)
		n.hashes = slices.Compact(hs)
		n.ready.Store(true)
	})
}
