package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Registry is a container registry the tenant connected. Secrets are never
// returned; HasPassword/HasWebhookSecret say whether they are set.
type Registry struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	URL              string `json:"url"`
	Host             string `json:"host"`
	Insecure         bool   `json:"insecure"`
	Username         string `json:"username,omitempty"`
	HasPassword      bool   `json:"has_password"`
	HasWebhookSecret bool   `json:"has_webhook_secret"`
	CreatedAt        Time   `json:"created_at"`
	BackfilledAt     *Time  `json:"backfilled_at"`
	Error            string `json:"error,omitempty"`
	// Images counts the registry's images (not deleted); Unhealthy those
	// with open findings; Counts sums their open findings.
	Images    int    `json:"images"`
	Unhealthy int    `json:"unhealthy_images"`
	Counts    Counts `json:"counts"`
}

// NewRegistry is what POST /api/v1/registries takes.
type NewRegistry struct {
	Name          string `json:"name"`
	URL           string `json:"url"`
	Insecure      bool   `json:"insecure"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	WebhookSecret string `json:"webhook_secret"`
}

// Credentials are what a worker needs to pull from a registry.
type Credentials struct {
	Host               string
	Insecure           bool
	Username, Password string
}

// registryHost validates a registry URL ("https://host[:port]",
// "http://host:port" or a bare "host:port") and returns its host.
func registryHost(raw string) (string, bool, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 2048 {
		return "", false, errors.New("url is required (at most 2048 characters)")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("url scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", false, fmt.Errorf("url %q: want scheme://host[:port] with no path, query or user", raw)
	}
	return u.Host, u.Scheme == "http", nil
}

// CreateRegistry stores a registry. The password is encrypted with the
// server key; only a hash of the webhook secret is kept.
func (s *Store) CreateRegistry(ctx context.Context, tenantID int64, in NewRegistry) (Registry, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return Registry{}, errors.New("name is required (at most 200 characters)")
	}
	host, plain, err := registryHost(in.URL)
	if err != nil {
		return Registry{}, err
	}
	if len(in.Username) > 500 || len(in.Password) > 10000 || len(in.WebhookSecret) > 1000 {
		return Registry{}, errors.New("username, password or webhook_secret too long")
	}
	if in.Password != "" && s.keys == nil {
		return Registry{}, errors.New("the server has no key to encrypt registry passwords")
	}
	id := "reg_" + randomHex(8)
	var enc []byte
	if in.Password != "" {
		enc = s.keys.Seal(in.Password, id)
	}
	hook := ""
	if in.WebhookSecret != "" {
		hook = secretHash(in.WebhookSecret)
	}
	_, err = s.exec(ctx, `INSERT INTO registries (id, tenant_id, name, url, host, insecure, username, password_enc, webhook_secret_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, tenantID, in.Name, strings.TrimSpace(in.URL), host, boolInt(in.Insecure || plain), in.Username, enc, hook, s.nowMS())
	if err != nil {
		if isUniqueViolation(err) {
			return Registry{}, fmt.Errorf("registry %q: %w", in.Name, ErrConflict)
		}
		return Registry{}, err
	}
	return s.Registry(ctx, tenantID, id)
}

func secretHash(s string) string {
	sum := sha256.Sum256([]byte("vigil-webhook\x00" + s))
	return hex.EncodeToString(sum[:])
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

const registryColumns = `r.id, r.name, r.url, r.host, r.insecure, r.username, CASE WHEN r.password_enc IS NULL THEN 0 ELSE 1 END, CASE WHEN r.webhook_secret_hash = '' THEN 0 ELSE 1 END, r.created_at, r.backfilled_at, r.error,
	(SELECT COUNT(*) FROM images i WHERE i.registry_id = r.id AND i.deleted_at IS NULL),
	(SELECT COUNT(*) FROM images i WHERE i.registry_id = r.id AND i.deleted_at IS NULL AND (i.critical + i.high + i.medium + i.low + i.unknown) > 0),
	(SELECT COALESCE(SUM(i.critical), 0) FROM images i WHERE i.registry_id = r.id AND i.deleted_at IS NULL),
	(SELECT COALESCE(SUM(i.high), 0) FROM images i WHERE i.registry_id = r.id AND i.deleted_at IS NULL),
	(SELECT COALESCE(SUM(i.medium), 0) FROM images i WHERE i.registry_id = r.id AND i.deleted_at IS NULL),
	(SELECT COALESCE(SUM(i.low), 0) FROM images i WHERE i.registry_id = r.id AND i.deleted_at IS NULL),
	(SELECT COALESCE(SUM(i.unknown), 0) FROM images i WHERE i.registry_id = r.id AND i.deleted_at IS NULL)`

func scanRegistry(sc interface{ Scan(...any) error }) (Registry, error) {
	var r Registry
	var insecure, hasPW, hasHook int
	var created int64
	var backfilled sql.NullInt64
	err := sc.Scan(&r.ID, &r.Name, &r.URL, &r.Host, &insecure, &r.Username, &hasPW, &hasHook, &created, &backfilled, &r.Error,
		&r.Images, &r.Unhealthy, &r.Counts.Critical, &r.Counts.High, &r.Counts.Medium, &r.Counts.Low, &r.Counts.Unknown)
	r.Insecure, r.HasPassword, r.HasWebhookSecret = insecure != 0, hasPW != 0, hasHook != 0
	r.CreatedAt = msTime(created)
	r.BackfilledAt = msPtr(backfilled)
	return r, err
}

// Registry returns one of the tenant's registries.
func (s *Store) Registry(ctx context.Context, tenantID int64, id string) (Registry, error) {
	r, err := scanRegistry(s.queryRow(ctx, "SELECT "+registryColumns+" FROM registries r WHERE r.tenant_id = ? AND r.id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// Registries lists the tenant's registries with their image counts and
// severity counts, by name.
func (s *Store) Registries(ctx context.Context, tenantID int64) ([]Registry, error) {
	rows, err := s.query(ctx, "SELECT "+registryColumns+" FROM registries r WHERE r.tenant_id = ? ORDER BY r.name", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Registry{}
	for rows.Next() {
		r, err := scanRegistry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteRegistry removes a registry; its images leave every list.
func (s *Store) DeleteRegistry(ctx context.Context, tenantID int64, id string) error {
	defer s.webhookKeys.forget(id)
	return s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, "DELETE FROM registries WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.exec(ctx, "UPDATE images SET deleted_at = ? WHERE registry_id = ? AND deleted_at IS NULL", s.nowMS(), id)
		return err
	})
}

// RegistryForWebhook finds a registry by id and checks the bearer secret
// in constant time. Unknown registries and wrong secrets are both
// ErrNotFound, so the endpoint does not reveal which registries exist.
func (s *Store) RegistryForWebhook(ctx context.Context, id, secret string) (tenantID int64, err error) {
	k, ok := s.webhookKeys.get(id, s.now())
	if !ok {
		err = s.queryRow(ctx, "SELECT tenant_id, webhook_secret_hash FROM registries WHERE id = ?", id).Scan(&k.tenantID, &k.hash)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		if err != nil {
			return 0, err
		}
		s.webhookKeys.put(id, k, s.now())
	}
	if k.hash == "" || secret == "" || subtle.ConstantTimeCompare([]byte(k.hash), []byte(secretHash(secret))) != 1 {
		return 0, ErrNotFound
	}
	return k.tenantID, nil
}

// webhookKeyTTL is how long a registry's webhook secret hash is reused
// without reading it again: every delivery would otherwise cost a read. A
// registry deleted through another replica accepts deliveries that long
// (they fail on the missing registry).
const webhookKeyTTL = 10 * time.Second

type webhookKey struct {
	tenantID int64
	hash     string
	at       time.Time
}

// webhookKeyCache holds registries' webhook secret hashes (never secrets).
type webhookKeyCache struct {
	mu   sync.Mutex
	keys map[string]webhookKey
}

func (c *webhookKeyCache) get(id string, now time.Time) (webhookKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[id]
	if !ok || now.Sub(k.at) > webhookKeyTTL || now.Before(k.at) {
		return webhookKey{}, false
	}
	return k, true
}

func (c *webhookKeyCache) put(id string, k webhookKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) > 10000 {
		c.keys = map[string]webhookKey{}
	}
	k.at = now
	c.keys[id] = k
}

func (c *webhookKeyCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.keys, id)
}

// RegistryCredentials decrypts what a worker needs to pull (not tenant
// scoped: workers act for every tenant).
func (s *Store) RegistryCredentials(ctx context.Context, id string) (Credentials, error) {
	var c Credentials
	var insecure int
	var enc []byte
	err := s.queryRow(ctx, "SELECT host, insecure, username, password_enc FROM registries WHERE id = ?", id).Scan(&c.Host, &insecure, &c.Username, &enc)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	c.Insecure = insecure != 0
	if len(enc) > 0 {
		if s.keys == nil {
			return c, errors.New("the server has no key to decrypt registry passwords")
		}
		if c.Password, err = s.keys.Open(enc, id); err != nil {
			return c, fmt.Errorf("registry %s password: %w", id, err)
		}
	}
	return c, nil
}

// SetRegistryBackfill records the end of a catalog backfill and its error.
func (s *Store) SetRegistryBackfill(ctx context.Context, id string, backfillErr error) error {
	msg := ""
	if backfillErr != nil {
		msg = truncate(backfillErr.Error(), 2000)
	}
	_, err := s.exec(ctx, "UPDATE registries SET backfilled_at = ?, error = ? WHERE id = ?", s.nowMS(), msg, id)
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
