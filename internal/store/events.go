package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Image event actions.
const (
	ActionPush   = "push"
	ActionPull   = "pull"
	ActionDelete = "delete"
)

// Image statuses.
const (
	StatusPending = "pending"
	StatusScanned = "scanned"
	StatusFailed  = "failed"
)

// ImageEvent is one registry event about an image, from any webhook
// format or the catalog backfill.
type ImageEvent struct {
	TenantID   int64
	RegistryID string
	Repository string
	// Digest is the manifest digest; "" on a delete means the whole
	// repository was deleted.
	Digest string
	Tag    string
	Action string
	At     time.Time
	// Key identifies the event for deduplication ("" = never a duplicate):
	// a redelivered or replayed event with the same key is ignored.
	Key string
}

// EventResult says what an event changed.
type EventResult struct {
	Duplicate bool
	ImageID   int64
	Digest    string
	// Scan is set when the image should be scanned: a push of an image not
	// yet scanned (or whose scan failed), a pull of a never-scanned image.
	Scan bool
}

// RecordEvents applies events in one transaction (a webhook delivery's
// envelope), in order.
func (s *Store) RecordEvents(ctx context.Context, evs []ImageEvent) ([]EventResult, error) {
	out := make([]EventResult, len(evs))
	err := s.tx(ctx, func(tx *Tx) error {
		for i, ev := range evs {
			r, err := s.recordEvent(ctx, tx, ev)
			if err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
			out[i] = r
		}
		return nil
	})
	return out, err
}

// RecordEventBatch applies several deliveries' events in one transaction
// (the webhook intake coalesces concurrent deliveries into one commit).
// Each delivery runs in its own savepoint: one that fails is rolled back
// alone and gets its error in errs; err is for the whole batch. then, if
// not nil, runs in the transaction after the events (enqueueing their
// scans with the events, atomically).
func (s *Store) RecordEventBatch(ctx context.Context, deliveries [][]ImageEvent, then func(*Tx, [][]EventResult) error) (out [][]EventResult, errs []error, err error) {
	err = s.tx(ctx, func(tx *Tx) error {
		tx.prepared()
		out = make([][]EventResult, len(deliveries))
		errs = make([]error, len(deliveries))
		for d, evs := range deliveries {
			if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT delivery"); err != nil {
				return err
			}
			res := make([]EventResult, len(evs))
			var derr error
			for i, ev := range evs {
				if res[i], derr = s.recordEvent(ctx, tx, ev); derr != nil {
					derr = fmt.Errorf("event %d: %w", i, derr)
					break
				}
			}
			if derr != nil {
				errs[d] = derr
				if _, err := tx.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT delivery"); err != nil {
					return err
				}
			} else {
				out[d] = res
			}
			if _, err := tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT delivery"); err != nil {
				return err
			}
		}
		if then != nil {
			return then(tx, out)
		}
		return nil
	})
	return out, errs, err
}

func (s *Store) recordEvent(ctx context.Context, tx *Tx, ev ImageEvent) (EventResult, error) {
	res := EventResult{Digest: ev.Digest}
	now := s.nowMS()
	at := now
	if !ev.At.IsZero() && ev.At.UnixMilli() < now {
		at = ev.At.UnixMilli()
	}
	if ev.Key != "" {
		r, err := tx.exec(ctx, "INSERT INTO webhook_events (registry_id, event_key, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", ev.RegistryID, ev.Key, now)
		if err != nil {
			return res, err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Duplicate = true
			return res, nil
		}
	}
	repoID, err := ensureRepository(ctx, tx, ev.TenantID, ev.RegistryID, ev.Repository, now)
	if err != nil {
		return res, err
	}
	if ev.Action == ActionDelete {
		if ev.Digest == "" {
			_, err = tx.exec(ctx, "UPDATE images SET deleted_at = ? WHERE repository_id = ? AND deleted_at IS NULL", now, repoID)
		} else {
			_, err = tx.exec(ctx, "UPDATE images SET deleted_at = ? WHERE repository_id = ? AND digest = ? AND deleted_at IS NULL", now, repoID, ev.Digest)
		}
		if err == nil {
			_, err = tx.exec(ctx, "DELETE FROM tags WHERE repository_id = ? AND image_id IN (SELECT id FROM images WHERE repository_id = ? AND deleted_at IS NOT NULL)", repoID, repoID)
		}
		return res, err
	}
	id, status, err := ensureImage(ctx, tx, ev.TenantID, ev.RegistryID, repoID, ev.Digest)
	if err != nil {
		return res, err
	}
	res.ImageID = id
	switch ev.Action {
	case ActionPush:
		if _, err := tx.exec(ctx, "UPDATE images SET pushed_at = ?, deleted_at = NULL WHERE id = ? AND (pushed_at IS NULL OR pushed_at < ?)", at, id, at); err != nil {
			return res, err
		}
		// The image CI published before it reached a registry is now this
		// one (its CI runs link by digest).
		if ev.RegistryID != "" {
			if _, err := tx.exec(ctx, "UPDATE images SET deleted_at = ? WHERE tenant_id = ? AND digest = ? AND registry_id = '' AND deleted_at IS NULL", now, ev.TenantID, ev.Digest); err != nil {
				return res, err
			}
		}
		if ev.Tag != "" {
			if err := moveTag(ctx, tx, repoID, ev.Tag, id, at); err != nil {
				return res, err
			}
		}
		res.Scan = status != StatusScanned
	case ActionPull:
		if _, err := tx.exec(ctx, "UPDATE images SET pulled_at = ? WHERE id = ? AND (pulled_at IS NULL OR pulled_at < ?)", at, id, at); err != nil {
			return res, err
		}
		res.Scan = status == StatusPending
	default:
		return res, fmt.Errorf("unknown action %q", ev.Action)
	}
	return res, nil
}

func ensureRepository(ctx context.Context, tx *Tx, tenantID int64, registryID, name string, now int64) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, "SELECT id FROM repositories WHERE tenant_id = ? AND registry_id = ? AND name = ?", tenantID, registryID, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if _, err := tx.exec(ctx, "INSERT INTO repositories (tenant_id, registry_id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", tenantID, registryID, name, now); err != nil {
		return 0, err
	}
	err = tx.queryRow(ctx, "SELECT id FROM repositories WHERE tenant_id = ? AND registry_id = ? AND name = ?", tenantID, registryID, name).Scan(&id)
	return id, err
}

func ensureImage(ctx context.Context, tx *Tx, tenantID int64, registryID string, repoID int64, digest string) (int64, string, error) {
	var id int64
	var status string
	q := "SELECT id, status FROM images WHERE repository_id = ? AND digest = ?"
	err := tx.queryRow(ctx, q, repoID, digest).Scan(&id, &status)
	if err == nil {
		return id, status, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, "", err
	}
	if _, err := tx.exec(ctx, "INSERT INTO images (tenant_id, registry_id, repository_id, digest, status) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		tenantID, registryID, repoID, digest, StatusPending); err != nil {
		return 0, "", err
	}
	err = tx.queryRow(ctx, q, repoID, digest).Scan(&id, &status)
	return id, status, err
}

// moveTag points tag at image id. When it pointed at another image, that
// image is marked replaced by this one: once this one is evaluated, the
// old image's findings it no longer has are resolved by replacement.
func moveTag(ctx context.Context, tx *Tx, repoID int64, tag string, id, at int64) error {
	var old int64
	err := tx.queryRow(ctx, "SELECT image_id FROM tags WHERE repository_id = ? AND tag = ?", repoID, tag).Scan(&old)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.exec(ctx, "INSERT INTO tags (repository_id, tag, image_id, updated_at) VALUES (?, ?, ?, ?)", repoID, tag, id, at)
		return err
	case err != nil:
		return err
	case old == id:
		return nil
	}
	if _, err := tx.exec(ctx, "UPDATE tags SET image_id = ?, updated_at = ? WHERE repository_id = ? AND tag = ?", id, at, repoID, tag); err != nil {
		return err
	}
	_, err = tx.exec(ctx, "UPDATE images SET replaced_by = ? WHERE id = ?", id, old)
	return err
}

// PendingScans lists images waiting for a scan (status pending, not
// deleted), oldest first: the scheduler re-enqueues them at start so an
// event recorded just before a crash is not lost.
func (s *Store) PendingScans(ctx context.Context, limit int) ([]ImageKey, error) {
	rows, err := s.query(ctx, "SELECT id, tenant_id, digest FROM images WHERE status = ? AND deleted_at IS NULL ORDER BY id LIMIT ?", StatusPending, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ImageKey
	for rows.Next() {
		var k ImageKey
		if err := rows.Scan(&k.ID, &k.TenantID, &k.Digest); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// ImageKey identifies a stored image.
type ImageKey struct {
	ID       int64
	TenantID int64
	Digest   string
}
