package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"
)

// VulnDBBuild is a vulnerability DB file published for every process of a
// deployment (docs/server.md, "One DB for all processes").
type VulnDBBuild struct {
	ID     int64
	Digest string // sha256:<hex> of the file
	Built  time.Time
	Size   int64
}

// vulnDBChunk bounds the memory a publish or a load holds at once.
const vulnDBChunk = 4 << 20

// PublishVulnDB stores the DB file read from r (size bytes, digest as
// computed by the caller) as a new build in one transaction, so readers
// never see part of it, and drops all but the newest keep builds. A build
// with the same digest is not stored twice.
func (s *Store) PublishVulnDB(ctx context.Context, r io.Reader, digest string, built time.Time, size int64, keep int) error {
	return s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, "INSERT INTO vulndb_builds (digest, built_at, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
			digest, built.UnixMilli(), size, s.nowMS())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		var id int64
		if err := tx.queryRow(ctx, "SELECT id FROM vulndb_builds WHERE digest = ?", digest).Scan(&id); err != nil {
			return err
		}
		buf := make([]byte, vulnDBChunk)
		var total int64
		for seq := 0; ; seq++ {
			n, err := io.ReadFull(r, buf)
			if n > 0 {
				if _, err := tx.exec(ctx, "INSERT INTO vulndb_chunks (build_id, seq, data) VALUES (?, ?, ?)", id, seq, buf[:n]); err != nil {
					return err
				}
				total += int64(n)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return err
			}
		}
		if total != size {
			return fmt.Errorf("publishing the vulnerability DB: read %d bytes, want %d", total, size)
		}
		if keep < 1 {
			keep = 1
		}
		old := "SELECT id FROM vulndb_builds ORDER BY id DESC LIMIT -1 OFFSET ?"
		if tx.d == postgres {
			old = "SELECT id FROM vulndb_builds ORDER BY id DESC OFFSET ?"
		}
		if _, err := tx.exec(ctx, "DELETE FROM vulndb_chunks WHERE build_id IN ("+old+")", keep); err != nil {
			return err
		}
		_, err = tx.exec(ctx, "DELETE FROM vulndb_builds WHERE id IN ("+old+")", keep)
		return err
	})
}

// LatestVulnDB is the newest published build (ErrNotFound when none).
func (s *Store) LatestVulnDB(ctx context.Context) (VulnDBBuild, error) {
	var b VulnDBBuild
	var built int64
	err := s.queryRow(ctx, "SELECT id, digest, built_at, size FROM vulndb_builds ORDER BY id DESC LIMIT 1").Scan(&b.ID, &b.Digest, &built, &b.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrNotFound
	}
	b.Built = time.UnixMilli(built).UTC()
	return b, err
}

// ReadVulnDB writes a build's file to w, one chunk at a time. A build
// dropped meanwhile (a newer one was published) is ErrNotFound; the
// caller verifies the digest of what it got.
func (s *Store) ReadVulnDB(ctx context.Context, b VulnDBBuild, w io.Writer) error {
	var total int64
	for seq := 0; total < b.Size; seq++ {
		var data []byte
		err := s.queryRow(ctx, "SELECT data FROM vulndb_chunks WHERE build_id = ? AND seq = ?", b.ID, seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("vulnerability DB build %d chunk %d: %w", b.ID, seq, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if len(data) == 0 {
			return fmt.Errorf("vulnerability DB build %d chunk %d is empty", b.ID, seq)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		total += int64(len(data))
	}
	if total != b.Size {
		return fmt.Errorf("vulnerability DB build %d: %d bytes, want %d", b.ID, total, b.Size)
	}
	return nil
}

// RecordVulnDBRefresh stores the outcome of the deployment's last feed
// refresh (errMsg "" for success).
func (s *Store) RecordVulnDBRefresh(ctx context.Context, at time.Time, errMsg string) error {
	_, err := s.exec(ctx, `INSERT INTO vulndb_refresh (id, at, error) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET at = excluded.at, error = excluded.error`, at.UnixMilli(), errMsg)
	return err
}

// LastVulnDBRefresh is the outcome RecordVulnDBRefresh stored last
// (ErrNotFound before the first).
func (s *Store) LastVulnDBRefresh(ctx context.Context) (at time.Time, errMsg string, err error) {
	var ms int64
	err = s.queryRow(ctx, "SELECT at, error FROM vulndb_refresh WHERE id = 1").Scan(&ms, &errMsg)
	if errors.Is(err, sql.ErrNoRows) {
		return at, "", ErrNotFound
	}
	return time.UnixMilli(ms).UTC(), errMsg, err
}
