package vulndb

import (
	"context"
	"fmt"
	"slices"
)

// Verify checks the DB file: SQLite's own integrity check (every page, index
// and constraint), then Vigil's invariants: every record is valid JSON, the
// lookup index exists, every feed with rows is a listed source, and every
// source's recorded count matches its rows in one table (advisories,
// affected records or enrichments, whichever that feed counts). It returns
// the problems found, none for a sound DB; the error is for a DB that
// cannot be read at all.
func (d *DB) Verify(ctx context.Context) ([]string, error) {
	var problems []string
	rows, err := d.db.QueryContext(ctx, `PRAGMA integrity_check(100)`)
	if err != nil {
		return nil, fmt.Errorf("integrity check: %w", err)
	}
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return nil, fmt.Errorf("integrity check: %w", err)
		}
		if msg != "ok" {
			problems = append(problems, "sqlite: "+msg)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		// A damaged page often fails the check itself.
		return append(problems, "sqlite: "+err.Error()), nil
	}
	if len(problems) > 0 {
		// The invariants would only restate the damage.
		return problems, nil
	}
	var idx int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'affected_package'`).Scan(&idx); err != nil || idx != 1 {
		problems = append(problems, "the affected_package index is missing: lookups would scan the whole table")
	}
	for _, table := range []string{"vulnerability", "affected", "enrichment"} {
		var bad int
		if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE NOT json_valid(record)`).Scan(&bad); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", table, err))
		} else if bad > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d records are not valid JSON", table, bad))
		}
	}
	counts, err := d.Counts(ctx)
	if err != nil {
		return append(problems, err.Error()), nil
	}
	var names []string
	for _, s := range d.meta.Sources {
		names = append(names, s.Name)
		c := counts[s.Name]
		if s.Records == 0 || slices.Contains([]int{c.Vulnerabilities, c.Affected, c.Enrichments}, s.Records) {
			continue
		}
		problems = append(problems, fmt.Sprintf("source %s: metadata says %d records, the DB holds %d advisories, %d affected records, %d enrichments",
			s.Name, s.Records, c.Vulnerabilities, c.Affected, c.Enrichments))
	}
	for feed, c := range counts {
		if feed != "" && !slices.Contains(names, feed) {
			problems = append(problems, fmt.Sprintf("feed %s has %d rows but is not a listed source", feed, c.Vulnerabilities+c.Affected+c.Enrichments))
		}
	}
	slices.Sort(problems)
	return problems, nil
}
