// Package store owns the service's database: tenants and API tokens,
// registries (secrets encrypted at rest), repositories, images and their
// tags, layer inventories content-addressed by verified diff ID, the
// (ecosystem, package) -> layer index that re-evaluation walks, findings
// with their lifecycle, evaluations, CI runs, running images, the webhook
// dedup log and the audit log.
//
// The same Go API runs on an embedded SQLite file (modernc.org/sqlite) and
// on PostgreSQL (jackc/pgx/v5). Queries are written once with "?"
// placeholders and rebound for PostgreSQL; the few dialect differences
// (auto-increment keys, binary columns) live in dialect.go. SQLite gets one
// writer connection (WAL, BEGIN IMMEDIATE) and a pool of readers, so writes
// never fail with SQLITE_BUSY and reads never wait for them.
//
// Every read and write that takes a tenant is scoped to it: an object of
// another tenant is reported as ErrNotFound, never as forbidden.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// ErrNotFound is returned for missing objects and for other tenants' objects.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique name is already taken.
var ErrConflict = errors.New("already exists")

// Options locate the database.
type Options struct {
	// URL is "postgres://..." or "postgresql://..." for PostgreSQL, a
	// "sqlite:PATH" URL or a plain file path for SQLite; "" means
	// DataDir/vigil-server.db.
	URL string
	// DataDir holds the SQLite file (and the server key, see Keyring).
	DataDir string
	// Schema is a PostgreSQL schema to create and use (tests isolate runs
	// with it); "" uses the connection's default.
	Schema string
	// Keys encrypts registry secrets; required to store or read them.
	Keys *Keyring
}

// Store is the service database. Safe for concurrent use.
type Store struct {
	d dialect
	// w is the connection pool writes go through (one connection on
	// SQLite); r serves reads (the same pool on PostgreSQL).
	w, r *sql.DB
	pool *pgxpool.Pool
	path string
	keys *Keyring
	now  func() time.Time
	// webhookKeys caches registries' webhook secret hashes.
	webhookKeys webhookKeyCache
}

// Open connects, creates the database if needed and applies pending
// migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	var s *Store
	var err error
	if isPostgres(opts.URL) {
		s, err = openPostgres(ctx, opts)
	} else {
		s, err = openSQLite(opts)
	}
	if err != nil {
		return nil, err
	}
	s.now = time.Now
	s.keys = opts.Keys
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

func openPostgres(ctx context.Context, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if opts.Schema != "" {
		if !validIdent(opts.Schema) {
			return nil, fmt.Errorf("schema %q: want letters, digits and _", opts.Schema)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	// The store's queries are short index walks; PostgreSQL's JIT, which
	// a large row estimate switches on, spent 100+ ms compiling for one of
	// them (the web UI's remediation page) that then ran in 1 ms.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	cfg.MaxConns = max(int32(runtime.GOMAXPROCS(0))*4, 8)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if opts.Schema != "" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+opts.Schema); err != nil {
			pool.Close()
			return nil, fmt.Errorf("creating schema %s: %w", opts.Schema, err)
		}
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &Store{d: postgres, w: db, r: db, pool: pool}, nil
}

func validIdent(s string) bool {
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func sqlitePath(opts Options) (string, error) {
	p := opts.URL
	switch {
	case p == "":
		if opts.DataDir == "" {
			return "", errors.New("no database: give --database or --data-dir")
		}
		p = filepath.Join(opts.DataDir, "vigil-server.db")
	case strings.HasPrefix(p, "sqlite://"):
		p = strings.TrimPrefix(p, "sqlite://")
	case strings.HasPrefix(p, "sqlite:"):
		p = strings.TrimPrefix(p, "sqlite:")
	case strings.Contains(p, "://"):
		return "", fmt.Errorf("database URL %q: want postgres://..., sqlite:PATH or a file path", p)
	}
	if p == "" {
		return "", errors.New("empty SQLite path")
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("creating the database directory: %w", err)
	}
	return p, nil
}

func openSQLite(opts Options) (*Store, error) {
	p, err := sqlitePath(opts)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, pragma := range []string{"journal_mode(WAL)", "busy_timeout(30000)", "synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", pragma)
	}
	// The writer begins transactions IMMEDIATE: a read that later writes
	// would otherwise fail with SQLITE_BUSY instead of waiting.
	w, err := sql.Open("sqlite", "file:"+p+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", "file:"+p+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(max(runtime.GOMAXPROCS(0), 4))
	if err := w.Ping(); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("opening %s: %w", p, err)
	}
	return &Store{d: sqlite, w: w, r: r, path: p}, nil
}

// Close releases the connections.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Postgres reports whether the store is on PostgreSQL.
func (s *Store) Postgres() bool { return s.d == postgres }

// Pool is the pgx pool (PostgreSQL only), for the job queue's driver.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// WriteDB is the database/sql handle writes go through (on SQLite the one
// writer connection), for the job queue's SQLite driver, so job inserts
// and the store's writes share one writer.
func (s *Store) WriteDB() *sql.DB { return s.w }

// SetClock replaces time.Now (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

func (s *Store) nowMS() int64 { return s.now().UnixMilli() }

// tx runs fn in a write transaction. A panic in fn rolls it back before
// going on: on SQLite the transaction holds the one writer connection, which
// would otherwise stay taken until ctx ended (or for good with a ctx that
// never does).
func (s *Store) tx(ctx context.Context, fn func(*Tx) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			t.Rollback()
			panic(p)
		}
	}()
	if err := fn(&Tx{tx: t, d: s.d}); err != nil {
		t.Rollback()
		return err
	}
	return t.Commit()
}

// Tx is a write transaction, with the store's placeholder rebinding.
type Tx struct {
	tx *sql.Tx
	d  dialect
	// stmts caches prepared statements for transactions that repeat a few
	// statements many times (a batch of webhook events): modernc's SQLite
	// parses every unprepared statement again. PostgreSQL's pgx already
	// caches prepared statements per connection, so it stays nil there.
	stmts map[string]*sql.Stmt
}

// prepared makes t reuse prepared statements (SQLite only); they are closed
// with the transaction.
func (t *Tx) prepared() {
	if t.d == sqlite && t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
}

func (t *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = st
	return st, nil
}

// SQL is the underlying transaction (the job queue inserts jobs in it).
func (t *Tx) SQL() *sql.Tx { return t.tx }

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.stmts != nil {
		st, err := t.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t.stmts != nil {
		st, err := t.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if t.stmts != nil {
		st, err := t.stmt(ctx, q)
		if err != nil {
			// QueryRowContext on the transaction reports the same error.
			return t.tx.QueryRowContext(ctx, q, args...)
		}
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.r.QueryContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.r.QueryRowContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.w.ExecContext(ctx, s.d.rebind(q), args...)
}

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }
