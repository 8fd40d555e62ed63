package vulndb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxSearchRows bounds what one search returns: a common package name
// (say "openssl") has a few thousand records across every release.
const maxSearchRows = 20000

// FindIDs returns the ids of the advisories whose id is id or that list it
// as an alias, sorted. Aliases live inside the JSON records and have no
// index: the records holding the quoted id are found with instr() and
// confirmed by decoding, one pass over the table (tens of milliseconds on
// a full DB), which is fine for an interactive search.
func (d *DB) FindIDs(ctx context.Context, id string) ([]string, error) {
	quoted, _ := json.Marshal(id)
	rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT id, record FROM vulnerability WHERE id = ? COLLATE NOCASE OR instr(lower(CAST(record AS TEXT)), ?) > 0 LIMIT ?`, id, strings.ToLower(string(quoted)), maxSearchRows)
	if err != nil {
		return nil, fmt.Errorf("searching %s: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var got string
		var raw []byte
		if err := rows.Scan(&got, &raw); err != nil {
			return nil, fmt.Errorf("searching %s: %w", id, err)
		}
		var v vuln.Vulnerability
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("corrupt record %s: %w", got, err)
		}
		if strings.EqualFold(got, id) || slices.ContainsFunc(v.Aliases, func(a string) bool { return strings.EqualFold(a, id) }) {
			out = append(out, got)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("searching %s: %w", id, err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// AffectedByVuln returns every affected record of the advisory id, in any
// ecosystem, ordered by ecosystem and package.
func (d *DB) AffectedByVuln(ctx context.Context, id string) ([]vuln.Affected, error) {
	return d.queryAffected(ctx, `SELECT ecosystem, package, vuln_id, feed, record FROM affected WHERE vuln_id = ? ORDER BY ecosystem, package, feed LIMIT ?`, id, maxSearchRows)
}

// AffectedByPackage returns the records of a package name in every
// ecosystem, or in eco: a release ("Debian:11") or a whole distribution or
// language ("Debian", "PyPI"). name is compared as stored (normalised).
func (d *DB) AffectedByPackage(ctx context.Context, name, eco string) ([]vuln.Affected, error) {
	q := `SELECT ecosystem, package, vuln_id, feed, record FROM affected WHERE package = ?`
	args := []any{name}
	switch {
	case strings.Contains(eco, ":"):
		q += ` AND ecosystem = ?`
		args = append(args, eco)
	case eco != "":
		q += ` AND (ecosystem = ? OR ecosystem LIKE ? ESCAPE '\')`
		args = append(args, eco, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(eco)+":%")
	}
	q += ` ORDER BY ecosystem, vuln_id, feed LIMIT ?`
	return d.queryAffected(ctx, q, append(args, maxSearchRows)...)
}

func (d *DB) queryAffected(ctx context.Context, q string, args ...any) ([]vuln.Affected, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("searching the DB: %w", err)
	}
	defer rows.Close()
	var out []vuln.Affected
	for rows.Next() {
		var eco, pkg, id, feed string
		var raw []byte
		if err := rows.Scan(&eco, &pkg, &id, &feed, &raw); err != nil {
			return nil, fmt.Errorf("searching the DB: %w", err)
		}
		var a vuln.Affected
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("corrupt record for %s/%s: %w", eco, pkg, err)
		}
		a.VulnID, a.Ecosystem, a.Package = id, eco, pkg
		if a.Source == "" {
			a.Source = feed
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
