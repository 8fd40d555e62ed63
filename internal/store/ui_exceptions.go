package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/policy"
)

// Exception is an exception created in the web UI: an ignore entry of the
// tenant's policy, with who created it and when an evaluation applied it.
type Exception struct {
	ID        int64
	VulnID    string
	Package   string
	Image     string
	Path      string
	Reason    string
	Expires   time.Time // a date: the entry applies through its end, UTC
	CreatedBy string
	CreatedAt time.Time
	AppliedAt *time.Time
}

// PolicySource is the name the tenant's policy carries in suppression
// rules ("tenant-policy:LINE").
const PolicySource = "tenant-policy"

// CreateException appends e as an ignore entry to the tenant's policy (the
// rules of .vigil.yaml, checked by policy.Parse), records it and audits it.
// It returns the stored exception and the ids of the tenant's images that
// need a re-evaluation to apply it.
func (s *Store) CreateException(ctx context.Context, p Principal, e Exception) (Exception, []int64, error) {
	e.CreatedBy, e.CreatedAt = p.TokenID, msTime(s.nowMS())
	var ids []int64
	err := s.tx(ctx, func(tx *Tx) error {
		var cur string
		if err := tx.queryRow(ctx, "SELECT policy FROM tenants WHERE id = ?", p.TenantID).Scan(&cur); err != nil {
			return err
		}
		next, err := appendIgnore(cur, e)
		if err != nil {
			return err
		}
		if _, err := policy.Parse(PolicySource, []byte(next)); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
		}
		if _, err := tx.exec(ctx, "UPDATE tenants SET policy = ? WHERE id = ?", next, p.TenantID); err != nil {
			return err
		}
		var exp sql.NullInt64
		if !e.Expires.IsZero() {
			exp = sql.NullInt64{Int64: e.Expires.UnixMilli(), Valid: true}
		}
		if err := tx.queryRow(ctx, `INSERT INTO exceptions (tenant_id, vuln_id, package, image, path, reason, expires_at, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.TenantID, e.VulnID, e.Package, e.Image, e.Path, e.Reason, exp, e.CreatedBy, e.CreatedAt.UnixMilli()).Scan(&e.ID); err != nil {
			return err
		}
		detail := fmt.Sprintf("id=%q package=%q image=%q path=%q expires=%s reason=%q", e.VulnID, e.Package, e.Image, e.Path, dateOrNone(e.Expires), e.Reason)
		if _, err := tx.exec(ctx, "INSERT INTO audit_log (tenant_id, token_id, action, target, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			p.TenantID, p.TokenID, "exception.create", fmt.Sprintf("exception/%d", e.ID), detail, e.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		// The images to re-evaluate: those with this vulnerability, or
		// every image of the tenant for a package-only rule; only images
		// with a stored inventory (scanned from a registry) can be matched
		// again. A CI-only image gets the rule at its next publish.
		q := "SELECT id FROM images WHERE tenant_id = ? AND deleted_at IS NULL AND status = 'scanned' AND artifact <> ''"
		args := []any{p.TenantID}
		if e.VulnID != "" {
			q = `SELECT DISTINCT i.id FROM images i JOIN findings f ON f.image_id = i.id
				WHERE i.tenant_id = ? AND i.deleted_at IS NULL AND i.artifact <> '' AND f.state IN ('open', 'suppressed') AND UPPER(f.vuln_id) = ?`
			args = append(args, strings.ToUpper(e.VulnID))
		}
		ids, err = int64s(tx.query(ctx, q, args...))
		return err
	})
	return e, ids, err
}

// ErrInvalidPolicy wraps a policy the .vigil.yaml rules refuse.
var ErrInvalidPolicy = fmt.Errorf("invalid policy")

func dateOrNone(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.DateOnly)
}

// appendIgnore adds e to the ignore list of a .vigil.yaml document, keeping
// the rest of the document as it is.
func appendIgnore(doc string, e Exception) (string, error) {
	entry := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k, v string) {
		if v != "" {
			entry.Content = append(entry.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v, Style: yaml.DoubleQuotedStyle})
		}
	}
	add("id", e.VulnID)
	add("package", e.Package)
	add("image", e.Image)
	add("path", e.Path)
	add("reason", e.Reason)
	if !e.Expires.IsZero() {
		add("expires", e.Expires.UTC().Format(time.DateOnly))
	}
	var root yaml.Node
	if strings.TrimSpace(doc) != "" {
		if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
			return "", fmt.Errorf("%w: the tenant policy: %v", ErrInvalidPolicy, err)
		}
	}
	if root.Kind == 0 {
		root = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return "", fmt.Errorf("%w: the tenant policy is not a mapping", ErrInvalidPolicy)
	}
	var list *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "ignore" {
			list = m.Content[i+1]
		}
	}
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "ignore"}, list)
	}
	if list.Kind != yaml.SequenceNode {
		return "", fmt.Errorf("%w: ignore is not a list", ErrInvalidPolicy)
	}
	list.Content = append(list.Content, entry)
	b, err := yaml.Marshal(&root)
	return string(b), err
}

// Exceptions lists the tenant's UI-created exceptions, newest first. An
// exception not yet known to be applied gets its applied time from the
// first evaluation of one of the tenant's images after its creation.
func (s *Store) Exceptions(ctx context.Context, tenantID int64) ([]Exception, error) {
	rows, err := s.query(ctx, `SELECT id, vuln_id, package, image, path, reason, expires_at, created_by, created_at, applied_at
		FROM exceptions WHERE tenant_id = ? ORDER BY id DESC LIMIT 500`, tenantID)
	if err != nil {
		return nil, err
	}
	var out []Exception
	for rows.Next() {
		var e Exception
		var exp, applied sql.NullInt64
		var created int64
		if err := rows.Scan(&e.ID, &e.VulnID, &e.Package, &e.Image, &e.Path, &e.Reason, &exp, &e.CreatedBy, &created, &applied); err != nil {
			rows.Close()
			return nil, err
		}
		if exp.Valid {
			e.Expires = msTime(exp.Int64)
		}
		e.CreatedAt, e.AppliedAt = msTime(created), msPtr(applied)
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].AppliedAt != nil {
			continue
		}
		var at sql.NullInt64
		if err := s.queryRow(ctx, `SELECT MIN(e.created_at) FROM evaluations e JOIN images i ON i.id = e.image_id
			WHERE i.tenant_id = ? AND e.created_at > ?`, tenantID, out[i].CreatedAt.UnixMilli()).Scan(&at); err != nil {
			return nil, err
		}
		if at.Valid {
			out[i].AppliedAt = msPtr(at)
			if _, err := s.exec(ctx, "UPDATE exceptions SET applied_at = ? WHERE id = ?", at.Int64, out[i].ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// ImagePolicy returns the policy text of the tenant that owns an image
// ("" when none), for evaluations to apply.
func (s *Store) ImagePolicy(ctx context.Context, imageID int64) (string, error) {
	var doc string
	err := s.queryRow(ctx, "SELECT t.policy FROM images i JOIN tenants t ON t.id = i.tenant_id WHERE i.id = ?", imageID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return doc, err
}
