package vulndb

import (
	"context"
	"crypto/sha256"
	"fmt"
)

// PackageKey is an (ecosystem, package) key of the affected table.
type PackageKey struct {
	Ecosystem string
	Package   string
}

// Diff returns the (ecosystem, package) keys whose advisories differ
// between two DBs: an affected record added, removed or changed, or a
// vulnerability record (severity, aliases, ...) changed for any advisory
// that affects the package. The server re-evaluates only the images that
// hold these packages after a refresh.
func Diff(ctx context.Context, old, cur *DB) ([]PackageKey, error) {
	oa, ov, err := fingerprints(ctx, old)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", old.path, err)
	}
	na, nv, err := fingerprints(ctx, cur)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", cur.path, err)
	}
	changedVulns := map[string]bool{}
	for id, h := range nv {
		if ov[id] != h {
			changedVulns[id] = true
		}
	}
	for id := range ov {
		if _, ok := nv[id]; !ok {
			changedVulns[id] = true
		}
	}
	var out []PackageKey
	for k, h := range na {
		if oa[k].sum != h.sum || h.touches(changedVulns) {
			out = append(out, k)
		}
	}
	for k := range oa {
		if _, ok := na[k]; !ok {
			out = append(out, k)
		}
	}
	return out, nil
}

type pkgPrint struct {
	sum   [32]byte
	vulns []string
}

func (p pkgPrint) touches(changed map[string]bool) bool {
	for _, v := range p.vulns {
		if changed[v] {
			return true
		}
	}
	return false
}

// fingerprints hashes every package's affected records (in a stable
// order) and every vulnerability record.
func fingerprints(ctx context.Context, d *DB) (map[PackageKey]pkgPrint, map[string][32]byte, error) {
	aff := map[PackageKey]pkgPrint{}
	rows, err := d.db.QueryContext(ctx, "SELECT ecosystem, package, vuln_id, feed, record FROM affected ORDER BY ecosystem, package, vuln_id, feed, record")
	if err != nil {
		return nil, nil, err
	}
	var cur PackageKey
	h := sha256.New()
	var vulns []string
	flush := func() {
		if cur != (PackageKey{}) {
			var p pkgPrint
			copy(p.sum[:], h.Sum(nil))
			p.vulns = vulns
			aff[cur] = p
		}
		h.Reset()
		vulns = nil
	}
	for rows.Next() {
		var k PackageKey
		var id, feed string
		var rec []byte
		if err := rows.Scan(&k.Ecosystem, &k.Package, &id, &feed, &rec); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if k != cur {
			flush()
			cur = k
		}
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", id, feed, len(rec))
		h.Write(rec)
		vulns = append(vulns, id)
	}
	flush()
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	vs := map[string][32]byte{}
	rows, err = d.db.QueryContext(ctx, "SELECT id, feed, record FROM vulnerability ORDER BY id, feed")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, feed string
		var rec []byte
		if err := rows.Scan(&id, &feed, &rec); err != nil {
			return nil, nil, err
		}
		prev := vs[id]
		vs[id] = sha256.Sum256(append(append(prev[:], feed...), rec...))
	}
	return aff, vs, rows.Err()
}
