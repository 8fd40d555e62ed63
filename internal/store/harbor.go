package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status of a Harbor scan request.
const (
	HarborQueued = "queued"
	HarborDone   = "done"
	HarborFailed = "failed"
)

// harborRetention is how long a Harbor scan request and its report are
// kept: Harbor fetches the report within minutes and stores its own copy.
const harborRetention = 7 * 24 * time.Hour

// NewHarborScan is a scan request accepted from Harbor.
type NewHarborScan struct {
	RegistryURL string
	// Authorization is the registry's Authorization header value; stored
	// encrypted until the scan ends.
	Authorization string
	Repository    string
	Digest        string
	Tag           string
	MimeType      string
	// Request is the request as JSON, without the authorization.
	Request string
}

// HarborScan is a stored Harbor scan request.
type HarborScan struct {
	ID          string
	TenantID    int64
	RegistryURL string
	Repository  string
	Digest      string
	Tag         string
	MimeType    string
	Request     string
	Status      string
	Error       string
	Attempts    int
	// Report is the Vigil JSON report once Status is HarborDone.
	Report     string
	CreatedAt  time.Time
	FinishedAt *time.Time
	// Authorization is filled by HarborScanJob only.
	Authorization string
}

// CreateHarborScan stores a scan request and returns its id. Requests
// older than the retention are deleted on the way.
func (s *Store) CreateHarborScan(ctx context.Context, tenantID int64, in NewHarborScan) (string, error) {
	if s.keys == nil && in.Authorization != "" {
		return "", errors.New("no keyring to protect the registry authorization")
	}
	id := "hs_" + randomHex(16)
	var enc []byte
	if in.Authorization != "" {
		enc = s.keys.Seal(in.Authorization, id)
	}
	now := s.nowMS()
	err := s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM harbor_scans WHERE created_at < ?", now-harborRetention.Milliseconds()); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO harbor_scans (id, tenant_id, registry_url, authorization_enc, repository, digest, tag, mime_type, request, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, tenantID, in.RegistryURL, enc, in.Repository, in.Digest, in.Tag, in.MimeType, in.Request, HarborQueued, now)
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

const harborColumns = "id, tenant_id, registry_url, repository, digest, tag, mime_type, request, status, error, attempts, report, created_at, finished_at"

func scanHarbor(row interface{ Scan(...any) error }, h *HarborScan, extra ...any) error {
	var created int64
	var finished sql.NullInt64
	dest := append([]any{&h.ID, &h.TenantID, &h.RegistryURL, &h.Repository, &h.Digest, &h.Tag, &h.MimeType, &h.Request,
		&h.Status, &h.Error, &h.Attempts, &h.Report, &created, &finished}, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	h.CreatedAt, h.FinishedAt = msTime(created), msPtr(finished)
	return nil
}

// HarborScan returns the tenant's scan request (another tenant's is
// ErrNotFound), without the registry authorization.
func (s *Store) HarborScan(ctx context.Context, tenantID int64, id string) (HarborScan, error) {
	var h HarborScan
	err := scanHarbor(s.queryRow(ctx, "SELECT "+harborColumns+" FROM harbor_scans WHERE id = ? AND tenant_id = ?", id, tenantID), &h)
	return h, err
}

// HarborScanJob returns the tenant's scan request with its registry
// authorization decrypted, for the scan job (another tenant's is
// ErrNotFound).
func (s *Store) HarborScanJob(ctx context.Context, tenantID int64, id string) (HarborScan, error) {
	var h HarborScan
	var enc []byte
	if err := scanHarbor(s.queryRow(ctx, "SELECT "+harborColumns+", authorization_enc FROM harbor_scans WHERE id = ? AND tenant_id = ?", id, tenantID), &h, &enc); err != nil {
		return h, err
	}
	if len(enc) > 0 {
		if s.keys == nil {
			return h, errors.New("no keyring to read the registry authorization")
		}
		var err error
		if h.Authorization, err = s.keys.Open(enc, id); err != nil {
			return h, err
		}
	}
	return h, nil
}

// FinishHarborScan stores the report on the tenant's request and forgets
// the authorization.
func (s *Store) FinishHarborScan(ctx context.Context, tenantID int64, id, report string) error {
	_, err := s.exec(ctx, "UPDATE harbor_scans SET status = ?, report = ?, error = '', authorization_enc = NULL, finished_at = ? WHERE id = ? AND tenant_id = ?",
		HarborDone, report, s.nowMS(), id, tenantID)
	return err
}

// SetHarborScanError records a failed attempt on the tenant's request;
// final (retries exhausted) fails the request and forgets the
// authorization.
func (s *Store) SetHarborScanError(ctx context.Context, tenantID int64, id string, scanErr error, final bool) error {
	msg := truncate(scanErr.Error(), 4000)
	if !final {
		_, err := s.exec(ctx, "UPDATE harbor_scans SET error = ?, attempts = attempts + 1 WHERE id = ? AND tenant_id = ? AND status = ?", msg, id, tenantID, HarborQueued)
		return err
	}
	_, err := s.exec(ctx, "UPDATE harbor_scans SET status = ?, error = ?, attempts = attempts + 1, authorization_enc = NULL, finished_at = ? WHERE id = ? AND tenant_id = ? AND status = ?",
		HarborFailed, msg, s.nowMS(), id, tenantID, HarborQueued)
	return err
}

// HarborRegistry returns the tenant's registry for the registry URL of a
// Harbor scan request, so the images Harbor has scanned are listed with
// the tenant's registry images: the registry with that host (one the
// tenant connected, its webhooks perhaps), else a new one named
// "harbor <host>" without credentials (Harbor hands the scanner a robot
// account per scan, not one to keep) and without a webhook secret.
// Concurrent scans of a new host create one registry: the look-up and the
// insert are one transaction, serialized per tenant and host (SQLite's
// writer lock; a PostgreSQL advisory lock).
func (s *Store) HarborRegistry(ctx context.Context, tenantID int64, registryURL string) (string, error) {
	registryURL = strings.TrimSuffix(strings.TrimSpace(registryURL), "/")
	host, plain, err := registryHost(registryURL)
	if err != nil {
		return "", err
	}
	var id string
	err = s.tx(ctx, func(tx *Tx) error {
		if s.d == postgres {
			sum := sha256.Sum256([]byte(fmt.Sprintf("vigil-harbor-registry\x00%d\x00%s", tenantID, host)))
			if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(binary.BigEndian.Uint64(sum[:8]))); err != nil {
				return err
			}
		}
		err := tx.queryRow(ctx, "SELECT id FROM registries WHERE tenant_id = ? AND host = ? ORDER BY created_at, id LIMIT 1", tenantID, host).Scan(&id)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		name := "harbor " + host
		var taken int
		err = tx.queryRow(ctx, "SELECT 1 FROM registries WHERE tenant_id = ? AND name = ?", tenantID, name).Scan(&taken)
		if err == nil {
			name += " " + randomHex(3) // a registry of another host has the name
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		id = "reg_" + randomHex(8)
		_, err = tx.exec(ctx, `INSERT INTO registries (id, tenant_id, name, url, host, insecure, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, tenantID, name, registryURL, host, boolInt(plain), s.nowMS())
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}
