package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Scope is what an API token may do. Admin includes ingest and read;
// ingest includes read.
type Scope string

const (
	ScopeRead   Scope = "read"
	ScopeIngest Scope = "ingest"
	ScopeAdmin  Scope = "admin"
)

// ParseScope validates a scope name.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case ScopeRead, ScopeIngest, ScopeAdmin:
		return Scope(s), nil
	}
	return "", fmt.Errorf("scope %q: want admin, ingest or read", s)
}

// Allows reports whether a token of scope s may act with need.
func (s Scope) Allows(need Scope) bool {
	rank := map[Scope]int{ScopeRead: 1, ScopeIngest: 2, ScopeAdmin: 3}
	return rank[s] >= rank[need] && rank[need] > 0
}

// Tenant is an organisation: every object belongs to exactly one.
type Tenant struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Policy is the tenant's .vigil.yaml text ("" = none).
	Policy string `json:"-"`
}

// Principal is the caller an API token identifies.
type Principal struct {
	TokenID  string
	TenantID int64
	Tenant   string
	Scope    Scope
}

// tokenPrefix marks Vigil tokens so secret scanners can recognise them.
const tokenPrefix = "vgl_"

// EnsureTenant returns the tenant named name, creating it if needed.
func (s *Store) EnsureTenant(ctx context.Context, name string) (Tenant, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return Tenant{}, errors.New("tenant name must be 1 to 100 characters")
	}
	var t Tenant
	err := s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, "INSERT INTO tenants (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, s.nowMS()); err != nil {
			return err
		}
		return tx.queryRow(ctx, "SELECT id, name, policy FROM tenants WHERE name = ?", name).Scan(&t.ID, &t.Name, &t.Policy)
	})
	return t, err
}

// Tenant returns a tenant by id.
func (s *Store) Tenant(ctx context.Context, id int64) (Tenant, error) {
	var t Tenant
	err := s.queryRow(ctx, "SELECT id, name, policy FROM tenants WHERE id = ?", id).Scan(&t.ID, &t.Name, &t.Policy)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// SetTenantPolicy stores the tenant's policy (.vigil.yaml text), which the
// gate and evaluations apply.
func (s *Store) SetTenantPolicy(ctx context.Context, tenantID int64, policy string) error {
	_, err := s.exec(ctx, "UPDATE tenants SET policy = ? WHERE id = ?", policy, tenantID)
	return err
}

// CreateToken makes a new API token for the tenant (created if needed) and
// returns it; only its SHA-256 is stored.
func (s *Store) CreateToken(ctx context.Context, tenant string, scope Scope) (string, error) {
	if _, err := ParseScope(string(scope)); err != nil {
		return "", err
	}
	t, err := s.EnsureTenant(ctx, tenant)
	if err != nil {
		return "", err
	}
	id := randomHex(8)
	token := tokenPrefix + id + "_" + randomHex(24)
	_, err = s.exec(ctx, "INSERT INTO api_tokens (id, tenant_id, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)",
		id, t.ID, string(scope), hashToken(token), s.nowMS())
	if err != nil {
		return "", fmt.Errorf("storing token: %w", err)
	}
	return token, nil
}

// Authenticate resolves a bearer token; ErrNotFound for an unknown one.
func (s *Store) Authenticate(ctx context.Context, token string) (Principal, error) {
	var p Principal
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 200 {
		return p, ErrNotFound
	}
	var scope string
	err := s.queryRow(ctx, `SELECT t.id, t.tenant_id, n.name, t.scope FROM api_tokens t JOIN tenants n ON n.id = t.tenant_id WHERE t.hash = ?`,
		hashToken(token)).Scan(&p.TokenID, &p.TenantID, &p.Tenant, &scope)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	p.Scope = Scope(scope)
	return p, err
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Audit records an admin action.
func (s *Store) Audit(ctx context.Context, p Principal, action, target, detail string) error {
	_, err := s.exec(ctx, "INSERT INTO audit_log (tenant_id, token_id, action, target, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		p.TenantID, p.TokenID, action, target, detail, s.nowMS())
	return err
}

// AuditEntry is one audit log line.
type AuditEntry struct {
	TokenID   string `json:"token_id"`
	Action    string `json:"action"`
	Target    string `json:"target"`
	Detail    string `json:"detail,omitempty"`
	CreatedAt Time   `json:"created_at"`
}

// AuditLog lists the tenant's audit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, tenantID int64, limit int) ([]AuditEntry, error) {
	rows, err := s.query(ctx, "SELECT token_id, action, target, detail, created_at FROM audit_log WHERE tenant_id = ? ORDER BY id DESC LIMIT ?", tenantID, clampLimit(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.TokenID, &e.Action, &e.Target, &e.Detail, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = msTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
