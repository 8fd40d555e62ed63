package store

import (
	"context"
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/, applied once, in order,
// in its own transaction.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with NNN_", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies the migrations not yet recorded in vigil_migrations.
// Concurrent starters (API replicas and workers on one PostgreSQL) are
// serialised by an advisory lock; on SQLite the writer transaction does it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if s.d == postgres {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		// 0x76696769 = "vigi": an arbitrary key only Vigil uses.
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(1986619241)"); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(1986619241)")
	}
	if _, err := s.exec(ctx, `CREATE TABLE IF NOT EXISTS vigil_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("creating the migrations table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := s.w.QueryContext(ctx, "SELECT version FROM vigil_migrations")
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := s.tx(ctx, func(tx *Tx) error {
			for _, stmt := range splitStatements(s.d.ddl(m.sql)) {
				if _, err := tx.tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%w\n%s", err, stmt)
				}
			}
			_, err := tx.exec(ctx, "INSERT INTO vigil_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, s.nowMS())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// splitStatements splits a migration on ";" at line ends and drops
// comment lines. Migrations hold no procedural code, so this is enough.
func splitStatements(q string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(q, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
