package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// OutboundWebhook is a tenant's notification endpoint for new critical and
// high findings (SIEM, chat). Its signing secret is encrypted at rest.
type OutboundWebhook struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	MinSeverity string `json:"min_severity"`
	CreatedAt   Time   `json:"created_at"`
	secret      string
}

// Secret is the HMAC-SHA256 signing secret (decrypted).
func (o OutboundWebhook) Secret() string { return o.secret }

// CreateOutboundWebhook stores an endpoint; minSeverity is critical or high.
func (s *Store) CreateOutboundWebhook(ctx context.Context, tenantID int64, rawURL, secret, minSeverity string) (OutboundWebhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(rawURL) > 2048 {
		return OutboundWebhook{}, fmt.Errorf("url %q: want an http(s) URL", rawURL)
	}
	if minSeverity == "" {
		minSeverity = "high"
	}
	if minSeverity != "critical" && minSeverity != "high" {
		return OutboundWebhook{}, errors.New("min_severity: want critical or high")
	}
	if secret == "" || len(secret) > 1000 || s.keys == nil {
		return OutboundWebhook{}, errors.New("secret is required (at most 1000 characters)")
	}
	id := "hook_" + randomHex(8)
	now := s.nowMS()
	if _, err := s.exec(ctx, "INSERT INTO outbound_webhooks (id, tenant_id, url, secret_enc, min_severity, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		id, tenantID, rawURL, s.keys.Seal(secret, id), minSeverity, now); err != nil {
		return OutboundWebhook{}, err
	}
	return OutboundWebhook{ID: id, URL: rawURL, MinSeverity: minSeverity, CreatedAt: msTime(now), secret: secret}, nil
}

// OutboundWebhooks lists the tenant's endpoints with their secrets.
func (s *Store) OutboundWebhooks(ctx context.Context, tenantID int64) ([]OutboundWebhook, error) {
	rows, err := s.query(ctx, "SELECT id, url, secret_enc, min_severity, created_at FROM outbound_webhooks WHERE tenant_id = ? ORDER BY id", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OutboundWebhook{}
	for rows.Next() {
		var o OutboundWebhook
		var enc []byte
		var at int64
		if err := rows.Scan(&o.ID, &o.URL, &enc, &o.MinSeverity, &at); err != nil {
			return nil, err
		}
		o.CreatedAt = msTime(at)
		if s.keys != nil {
			if o.secret, err = s.keys.Open(enc, o.ID); err != nil {
				return nil, err
			}
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ImageRef returns an image's tenant, repository and digest (notifications).
func (s *Store) ImageRef(ctx context.Context, imageID int64) (tenantID int64, repository, digest string, err error) {
	err = s.queryRow(ctx, "SELECT i.tenant_id, p.name, i.digest FROM images i JOIN repositories p ON p.id = i.repository_id WHERE i.id = ?", imageID).
		Scan(&tenantID, &repository, &digest)
	return tenantID, strings.TrimSpace(repository), digest, err
}
