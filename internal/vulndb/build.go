package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vigil-scan/vigil/internal/tempfile"
	"github.com/vigil-scan/vigil/internal/vuln"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// batchSize is how many rows go in one transaction: large enough to make
// inserts cheap, small enough that the write set stays bounded.
const batchSize = 5000

// Builder writes a new DB file. It implements vuln.Sink (rows tagged with
// the default feed "") and Feed returns sinks tagged with a feed name. The
// file is built beside the target path and only replaces it on Commit, so
// readers never see a half-built DB. A Builder is safe for concurrent use,
// but rows are written one at a time.
type Builder struct {
	mu      sync.Mutex
	ctx     context.Context
	path    string
	tmp     string
	db      *sql.DB
	conn    *sql.Conn
	tx      *sql.Tx
	pending int
	sources []SourceInfo
	done    bool
	renamed bool
	// lock holds the temp file's flock until Commit or Abort, so that
	// another run's RemoveStale never deletes a DB being built.
	lock *os.File
}

// Create starts building a new DB that will replace path on Commit.
func Create(ctx context.Context, path string) (*Builder, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating DB directory: %w", err)
	}
	// Builds killed before Commit or Abort leave their temp files behind.
	RemoveStale(path)
	f, err := tempfile.Create(dir, filepath.Base(path)+tempSuffix+"*")
	if err != nil {
		return nil, fmt.Errorf("creating DB file: %w", err)
	}
	tmp := f.Name()
	b := &Builder{ctx: ctx, path: path, tmp: tmp, lock: f}
	// The temp file is thrown away on any failure, so the rollback
	// journal and syncing would only cost time.
	dsn := fileURI(tmp, "_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=temp_store(FILE)")
	if b.db, err = sql.Open("sqlite", dsn); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("opening new DB: %w", err)
	}
	if b.conn, err = b.db.Conn(ctx); err == nil {
		_, err = b.conn.ExecContext(ctx, schemaSQL)
	}
	if err != nil {
		b.Abort()
		return nil, fmt.Errorf("creating DB schema: %w", err)
	}
	return b, nil
}

// fileURI makes an SQLite URI for a path; the path is escaped so that '?'
// and '#' in directory names are not read as URI syntax.
func fileURI(path, query string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: query}
	return u.String()
}

// Feed returns a sink whose rows are tagged with the feed name, so that a
// later update can copy them over with CopyFeed.
func (b *Builder) Feed(name string) vuln.Sink { return feedSink{b: b, feed: name} }

// Vulnerability adds or merges an advisory under the default feed.
func (b *Builder) Vulnerability(v vuln.Vulnerability) error { return b.putVulnerability("", v) }

// Affected adds an affected-package record under the default feed.
func (b *Builder) Affected(a vuln.Affected) error { return b.putAffected("", a) }

// Enrich merges enrichment for a CVE under the default feed.
func (b *Builder) Enrich(cve string, e vuln.Enrichment) error { return b.putEnrichment("", cve, e) }

// AddSource records a feed's provenance in the DB metadata; a later call
// for the same name replaces the earlier one.
func (b *Builder) AddSource(s SourceInfo) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.sources {
		if b.sources[i].Name == s.Name {
			b.sources[i] = s
			return
		}
	}
	b.sources = append(b.sources, s)
}

type feedSink struct {
	b    *Builder
	feed string
}

func (s feedSink) Vulnerability(v vuln.Vulnerability) error { return s.b.putVulnerability(s.feed, v) }
func (s feedSink) Affected(a vuln.Affected) error           { return s.b.putAffected(s.feed, a) }
func (s feedSink) Enrich(cve string, e vuln.Enrichment) error {
	return s.b.putEnrichment(s.feed, cve, e)
}

var errFinished = errors.New("vulnerability DB builder already committed or aborted")

// begin returns the open batch transaction; callers hold b.mu.
func (b *Builder) begin() (*sql.Tx, error) {
	if b.done {
		return nil, errFinished
	}
	if b.tx == nil {
		tx, err := b.conn.BeginTx(b.ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("starting DB transaction: %w", err)
		}
		b.tx = tx
	}
	return b.tx, nil
}

// wrote counts a row and commits the batch when it is full.
func (b *Builder) wrote() error {
	b.pending++
	if b.pending < batchSize {
		return nil
	}
	return b.flush()
}

func (b *Builder) flush() error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx, b.pending = nil, 0
	if err != nil {
		return fmt.Errorf("writing DB batch: %w", err)
	}
	return nil
}

func (b *Builder) putVulnerability(feed string, v vuln.Vulnerability) error {
	if v.ID == "" {
		return errors.New("vulnerability without id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tx, err := b.begin()
	if err != nil {
		return err
	}
	v, err = mergeStored(b.ctx, tx, `SELECT record FROM vulnerability WHERE id = ? AND feed = ?`, v, mergeVulnerability, v.ID, feed)
	if err != nil {
		return fmt.Errorf("reading %s: %w", v.ID, err)
	}
	rec, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", v.ID, err)
	}
	if _, err := tx.ExecContext(b.ctx, `INSERT OR REPLACE INTO vulnerability (id, feed, record) VALUES (?, ?, ?)`, v.ID, feed, rec); err != nil {
		return fmt.Errorf("writing %s: %w", v.ID, err)
	}
	return b.wrote()
}

func (b *Builder) putAffected(feed string, a vuln.Affected) error {
	if a.VulnID == "" || a.Ecosystem == "" || a.Package == "" {
		return fmt.Errorf("affected record needs vuln id, ecosystem and package: %q %q %q", a.VulnID, a.Ecosystem, a.Package)
	}
	// The key fields live in columns; the blob holds the rest.
	blob := a
	blob.VulnID, blob.Ecosystem, blob.Package = "", "", ""
	rec, err := json.Marshal(blob)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", a.VulnID, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tx, err := b.begin()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(b.ctx, `INSERT INTO affected (ecosystem, package, vuln_id, feed, record) VALUES (?, ?, ?, ?, ?)`,
		a.Ecosystem, a.Package, a.VulnID, feed, rec); err != nil {
		return fmt.Errorf("writing %s for %s/%s: %w", a.VulnID, a.Ecosystem, a.Package, err)
	}
	return b.wrote()
}

func (b *Builder) putEnrichment(feed, cve string, e vuln.Enrichment) error {
	if cve == "" {
		return errors.New("enrichment without CVE id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tx, err := b.begin()
	if err != nil {
		return err
	}
	e, err = mergeStored(b.ctx, tx, `SELECT record FROM enrichment WHERE cve = ? AND feed = ?`, e, mergeEnrichment, cve, feed)
	if err != nil {
		return fmt.Errorf("reading enrichment of %s: %w", cve, err)
	}
	rec, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding enrichment of %s: %w", cve, err)
	}
	if _, err := tx.ExecContext(b.ctx, `INSERT OR REPLACE INTO enrichment (cve, feed, record) VALUES (?, ?, ?)`, cve, feed, rec); err != nil {
		return fmt.Errorf("writing enrichment of %s: %w", cve, err)
	}
	return b.wrote()
}

// mergeStored folds v over the record query finds (the same key written
// earlier by this feed), or returns v when there is none. The builder wrote
// that record itself, so one that does not decode is simply replaced.
func mergeStored[T any](ctx context.Context, tx *sql.Tx, query string, v T, merge func(old, v T) T, args ...any) (T, error) {
	var old []byte
	err := tx.QueryRowContext(ctx, query, args...).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	var prev T
	if json.Unmarshal(old, &prev) != nil {
		return v, nil
	}
	return merge(prev, v), nil
}

// CopyFeed copies every row of one feed from a previous DB file into the
// new one (used when the feed is unchanged or cannot be fetched). It
// returns the number of rows copied from the first table that had any:
// advisories, else affected records, else enrichments (NVD, EPSS, KEV).
func (b *Builder) CopyFeed(ctx context.Context, oldPath, feed string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errFinished
	}
	if err := b.flush(); err != nil {
		return 0, err
	}
	if _, err := b.conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, fileURI(oldPath, "mode=ro")); err != nil {
		return 0, fmt.Errorf("opening previous DB %s: %w", oldPath, err)
	}
	defer b.conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`)
	tx, err := b.conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int64
	for _, q := range []string{
		`INSERT OR REPLACE INTO vulnerability SELECT id, feed, record FROM old.vulnerability WHERE feed = ?`,
		`INSERT INTO affected SELECT ecosystem, package, vuln_id, feed, record FROM old.affected WHERE feed = ?`,
		`INSERT OR REPLACE INTO enrichment SELECT cve, feed, record FROM old.enrichment WHERE feed = ?`,
	} {
		res, err := tx.ExecContext(ctx, q, feed)
		if err != nil {
			return 0, fmt.Errorf("copying feed %s from previous DB: %w", feed, err)
		}
		if n == 0 {
			n, _ = res.RowsAffected()
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("copying feed %s from previous DB: %w", feed, err)
	}
	return int(n), nil
}

// DropFeed deletes every row written for a feed so far, so that a feed
// that failed halfway leaves nothing behind (its previous rows can then be
// copied in with CopyFeed).
func (b *Builder) DropFeed(ctx context.Context, feed string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return errFinished
	}
	if err := b.flush(); err != nil {
		return err
	}
	for _, table := range []string{"vulnerability", "affected", "enrichment"} {
		if _, err := b.conn.ExecContext(ctx, `DELETE FROM `+table+` WHERE feed = ?`, feed); err != nil {
			return fmt.Errorf("dropping feed %s: %w", feed, err)
		}
	}
	return nil
}

// Commit finishes the file, syncs it and renames it over the target path
// atomically. The Builder cannot be used afterwards.
func (b *Builder) Commit() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return errFinished
	}
	err := b.finish()
	if err != nil {
		b.abortLocked()
		return err
	}
	return nil
}

func (b *Builder) finish() error {
	ctx := context.WithoutCancel(b.ctx)
	if err := b.flush(); err != nil {
		return err
	}
	meta, err := encodeMeta(Metadata{SchemaVersion: SchemaVersion, Built: time.Now().UTC(), Sources: b.sources})
	if err != nil {
		return err
	}
	for k, v := range meta {
		if _, err := b.conn.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("writing DB metadata: %w", err)
		}
	}
	if _, err := b.conn.ExecContext(ctx, indexSQL); err != nil {
		return fmt.Errorf("indexing DB: %w", err)
	}
	if _, err := b.conn.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyzing DB: %w", err)
	}
	b.conn.Close()
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("closing new DB: %w", err)
	}
	b.done = true
	if err := syncFile(b.tmp); err != nil {
		return err
	}
	if err := os.Rename(b.tmp, b.path); err != nil {
		return fmt.Errorf("installing DB: %w", err)
	}
	b.renamed = true
	b.unlock()
	// Make the rename itself durable; not every platform can sync a dir.
	if d, err := os.Open(filepath.Dir(b.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("syncing new DB: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing new DB: %w", err)
	}
	return nil
}

// Abort discards the new file; the previous DB stays in place. It is safe
// to call after Commit (it does nothing then).
func (b *Builder) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.abortLocked()
}

// tempSuffix follows the DB's file name in the names of files being built.
const tempSuffix = ".tmp-"

// RemoveStale deletes the temporary files that builds of the DB at path,
// killed before they finished, left in its directory. Files of builds that
// are still running are locked and kept.
func RemoveStale(path string) ([]string, error) {
	return tempfile.RemoveStale(filepath.Dir(path), filepath.Base(path)+tempSuffix+"*")
}

func (b *Builder) unlock() {
	if b.lock != nil {
		b.lock.Close()
		b.lock = nil
	}
}

func (b *Builder) abortLocked() {
	if b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
	if b.conn != nil {
		b.conn.Close()
	}
	if b.db != nil && !b.done {
		b.db.Close()
	}
	if _, err := os.Stat(b.tmp); err == nil && !b.renamed {
		os.Remove(b.tmp)
	}
	b.unlock()
	b.done = true
}
