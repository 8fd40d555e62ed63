package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// UISession is a web UI session: who it acts as, its CSRF token and when
// it ends.
type UISession struct {
	Principal Principal
	CSRF      string
	ExpiresAt time.Time
}

// CreateUISession stores a session under the hash of its cookie value,
// acting as the API token tokenID, and drops expired sessions.
func (s *Store) CreateUISession(ctx context.Context, idHash, tokenID, csrf string, expires time.Time) error {
	now := s.nowMS()
	return s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM ui_sessions WHERE expires_at <= ?", now); err != nil {
			return err
		}
		_, err := tx.exec(ctx, "INSERT INTO ui_sessions (id_hash, token_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
			idHash, tokenID, csrf, now, expires.UnixMilli())
		return err
	})
}

// UISession returns the live session stored under idHash: ErrNotFound when
// there is none, it has expired, or its API token no longer exists.
func (s *Store) UISession(ctx context.Context, idHash string) (UISession, error) {
	var u UISession
	var scope string
	var exp int64
	err := s.queryRow(ctx, `SELECT t.id, t.tenant_id, n.name, t.scope, u.csrf, u.expires_at FROM ui_sessions u
		JOIN api_tokens t ON t.id = u.token_id JOIN tenants n ON n.id = t.tenant_id
		WHERE u.id_hash = ? AND u.expires_at > ?`, idHash, s.nowMS()).
		Scan(&u.Principal.TokenID, &u.Principal.TenantID, &u.Principal.Tenant, &scope, &u.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	u.Principal.Scope, u.ExpiresAt = Scope(scope), msTime(exp)
	return u, err
}

// DeleteUISession ends a session (sign-out); ending a missing one is no error.
func (s *Store) DeleteUISession(ctx context.Context, idHash string) error {
	_, err := s.exec(ctx, "DELETE FROM ui_sessions WHERE id_hash = ?", idHash)
	return err
}
