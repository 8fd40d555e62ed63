package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// DB is an open, read-only vulnerability DB. It implements vuln.Store and
// is safe for concurrent use; lookups are cached in process.
type DB struct {
	path     string
	db       *sql.DB
	meta     Metadata
	affected *cache[[]vuln.Affected]
	vulns    *cache[*vuln.Vulnerability]

	// names knows which packages have records (names.go).
	names names

	// ecos caches Ecosystems (coverage.go).
	ecoMu sync.Mutex
	ecos  map[string]bool
}

var _ vuln.Store = (*DB)(nil)

// cacheEntries bounds each lookup cache.
const cacheEntries = 16384

// Open opens the DB file at path read-only. The file is treated as
// immutable: an update writes a new file and renames it over this one, so
// an open DB keeps reading the file it opened.
func Open(path string) (*DB, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no vulnerability DB at %s: run `vigil db update` (or `vigil db import DIR`)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening vulnerability DB: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("vulnerability DB path %s is a directory, not a DB file", path)
	}
	sdb, err := sql.Open("sqlite", fileURI(path, "mode=ro&immutable=1"))
	if err != nil {
		return nil, corrupt(path, err)
	}
	d := &DB{path: path, db: sdb, affected: newCache[[]vuln.Affected](cacheEntries), vulns: newCache[*vuln.Vulnerability](cacheEntries)}
	if d.meta, err = readMeta(sdb); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("vulnerability DB at %s: %w", path, err)
	}
	return d, nil
}

func corrupt(path string, err error) error {
	return fmt.Errorf("vulnerability DB at %s is corrupt or not a Vigil DB (%v): run `vigil db update` to rebuild it", path, err)
}

type schemaError struct{ got int }

func (e schemaError) Error() string {
	return fmt.Sprintf("DB schema version %d, this vigil reads version %d: run `vigil db update` to rebuild it", e.got, SchemaVersion)
}

func readMeta(sdb *sql.DB) (Metadata, error) {
	var m Metadata
	rows, err := sdb.Query(`SELECT key, value FROM meta`)
	if err != nil {
		return m, fmt.Errorf("corrupt or not a Vigil DB (%v): run `vigil db update` to rebuild it", err)
	}
	defer rows.Close()
	kv := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return m, fmt.Errorf("corrupt metadata (%v): run `vigil db update` to rebuild it", err)
		}
		kv[k] = v
	}
	if err := rows.Err(); err != nil {
		return m, fmt.Errorf("corrupt metadata (%v): run `vigil db update` to rebuild it", err)
	}
	if m.SchemaVersion, err = strconv.Atoi(kv[metaSchemaVersion]); err != nil {
		return m, errors.New("no schema version (not a Vigil DB, or an unfinished build): run `vigil db update` to rebuild it")
	}
	if m.SchemaVersion != SchemaVersion {
		return m, schemaError{m.SchemaVersion}
	}
	m.Built, _ = time.Parse(time.RFC3339Nano, kv[metaBuilt])
	if s := kv[metaSources]; s != "" {
		if err := json.Unmarshal([]byte(s), &m.Sources); err != nil {
			return m, fmt.Errorf("corrupt source list (%v): run `vigil db update` to rebuild it", err)
		}
	}
	return m, nil
}

// Path is the file the DB was opened from.
func (d *DB) Path() string { return d.path }

// Metadata returns the DB's schema version, build time and sources.
func (d *DB) Metadata() Metadata {
	m := d.meta
	m.Sources = append([]SourceInfo(nil), d.meta.Sources...)
	return m
}

// Close releases the file.
func (d *DB) Close() error { return d.db.Close() }

// Affected returns the records for a package, ordered by advisory id. The
// returned slice is the caller's; the records' inner slices are shared with
// the cache and must not be modified.
func (d *DB) Affected(ctx context.Context, eco, pkg string) ([]vuln.Affected, error) {
	key := eco + "\x00" + pkg
	if recs, ok := d.affected.get(key); ok {
		return append([]vuln.Affected(nil), recs...), nil
	}
	if d.names.absent(eco, pkg) {
		return nil, nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT vuln_id, record FROM affected WHERE ecosystem = ? AND package = ? ORDER BY vuln_id`, eco, pkg)
	if err != nil {
		return nil, fmt.Errorf("looking up %s/%s: %w", eco, pkg, err)
	}
	defer rows.Close()
	var recs []vuln.Affected
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("looking up %s/%s: %w", eco, pkg, err)
		}
		var a vuln.Affected
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("corrupt record for %s/%s: %w", eco, pkg, err)
		}
		a.VulnID, a.Ecosystem, a.Package = id, eco, pkg
		recs = append(recs, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up %s/%s: %w", eco, pkg, err)
	}
	if len(recs) == 0 {
		// Packages without records are most of an image: once the names
		// index knows them, they stay out of the cache.
		d.missed(ctx)
		if d.names.ready.Load() {
			return nil, nil
		}
	}
	d.affected.put(key, recs)
	return append([]vuln.Affected(nil), recs...), nil
}

// Vulnerability returns the advisory, merged over every feed that has it,
// or nil when the DB does not know the id.
func (d *DB) Vulnerability(ctx context.Context, id string) (*vuln.Vulnerability, error) {
	if v, ok := d.vulns.get(id); ok {
		return cloneVuln(v), nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT record FROM vulnerability WHERE id = ? ORDER BY feed`, id)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", id, err)
	}
	defer rows.Close()
	var merged *vuln.Vulnerability
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("looking up %s: %w", id, err)
		}
		var v vuln.Vulnerability
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("corrupt record %s: %w", id, err)
		}
		if merged == nil {
			merged = &v
		} else {
			*merged = mergeVulnerability(*merged, v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up %s: %w", id, err)
	}
	d.vulns.put(id, merged)
	return cloneVuln(merged), nil
}

func cloneVuln(v *vuln.Vulnerability) *vuln.Vulnerability {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// Enrichment returns NVD, EPSS and KEV data for a CVE; zero when none.
func (d *DB) Enrichment(ctx context.Context, cve string) (vuln.Enrichment, error) {
	var out vuln.Enrichment
	rows, err := d.db.QueryContext(ctx, `SELECT record FROM enrichment WHERE cve = ? ORDER BY feed`, cve)
	if err != nil {
		return out, fmt.Errorf("looking up enrichment of %s: %w", cve, err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return out, fmt.Errorf("looking up enrichment of %s: %w", cve, err)
		}
		var e vuln.Enrichment
		if err := json.Unmarshal(raw, &e); err != nil {
			return out, fmt.Errorf("corrupt enrichment of %s: %w", cve, err)
		}
		out = mergeEnrichment(out, e)
	}
	return out, rows.Err()
}

// Counts returns the number of advisories, affected records and enriched
// CVEs, per feed ("" for rows written without a feed).
func (d *DB) Counts(ctx context.Context) (map[string]FeedCounts, error) {
	out := map[string]FeedCounts{}
	for _, q := range []struct {
		sql string
		set func(*FeedCounts, int)
	}{
		{`SELECT feed, count(*) FROM vulnerability GROUP BY feed`, func(c *FeedCounts, n int) { c.Vulnerabilities = n }},
		{`SELECT feed, count(*) FROM affected GROUP BY feed`, func(c *FeedCounts, n int) { c.Affected = n }},
		{`SELECT feed, count(*) FROM enrichment GROUP BY feed`, func(c *FeedCounts, n int) { c.Enrichments = n }},
	} {
		rows, err := d.db.QueryContext(ctx, q.sql)
		if err != nil {
			return nil, fmt.Errorf("counting records: %w", err)
		}
		for rows.Next() {
			var feed string
			var n int
			if err := rows.Scan(&feed, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("counting records: %w", err)
			}
			c := out[feed]
			q.set(&c, n)
			out[feed] = c
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("counting records: %w", err)
		}
	}
	return out, nil
}

// FeedCounts are the rows one feed holds in the DB.
type FeedCounts struct {
	Vulnerabilities, Affected, Enrichments int
}
