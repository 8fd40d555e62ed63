package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// This file is the read API the HTTP API and the web UI share. Every
// function takes the tenant and returns only its objects; lists are
// ordered newest first and paginated with an opaque page token.

// Image is one image digest in a repository, as lists show it.
type Image struct {
	ID              int64    `json:"id"`
	Digest          string   `json:"digest"`
	RegistryID      string   `json:"registry_id"`
	Repository      string   `json:"repository"`
	Tags            []string `json:"tags"`
	Status          string   `json:"status"`
	Error           string   `json:"error,omitempty"`
	PushedAt        *Time    `json:"pushed_at"`
	PulledAt        *Time    `json:"pulled_at"`
	ScannedAt       *Time    `json:"scanned_at"`
	LastEvaluatedAt *Time    `json:"last_evaluated_at"`
	DBBuiltAt       *Time    `json:"db_built_at"`
	Counts          Counts   `json:"counts"`
	// Fixable counts open findings with a fixed version.
	Fixable int     `json:"fixable"`
	Running bool    `json:"running"`
	CI      []CIRun `json:"ci"`
	// ReplacedBy is the digest a tag of this image moved to.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// CIRun is the CI/CD run that published a scan of the image.
type CIRun struct {
	Provider   string `json:"provider"`
	Workflow   string `json:"workflow"`
	RunID      string `json:"run_id,omitempty"`
	RunURL     string `json:"run_url"`
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
	Ref        string `json:"ref"`
	CreatedAt  Time   `json:"created_at"`
}

// ImageFilter selects images. Zero values select everything.
type ImageFilter struct {
	RegistryID string
	Repository string
	// Severity keeps images with open findings of any of these severities
	// (critical, high, medium, low, unknown).
	Severity []string
	// Fixable keeps images with (true) or without (false) fixable findings.
	Fixable *bool
	// Running keeps images running (true) or not (false) in a cluster.
	Running *bool
	// CVE keeps images with an open finding of this id.
	CVE string
	// Package keeps images with an open finding in this package.
	Package string
	// Digest keeps one digest (in every repository).
	Digest string
	// IncludeDeleted also lists deleted images.
	IncludeDeleted bool
	Limit          int
	PageToken      string
}

const runningExpr = `CASE WHEN EXISTS (SELECT 1 FROM running_images ri WHERE ri.tenant_id = i.tenant_id AND ri.digest = i.digest) THEN 1 ELSE 0 END`

const imageColumns = `i.id, i.digest, i.registry_id, p.name, i.status, i.error, i.pushed_at, i.pulled_at, i.scanned_at, i.last_evaluated_at, i.db_built_at,
	i.critical, i.high, i.medium, i.low, i.unknown, i.fixable, ` + runningExpr + `, COALESCE((SELECT n.digest FROM images n WHERE n.id = i.replaced_by), '')`

func scanImage(sc interface{ Scan(...any) error }) (Image, error) {
	var im Image
	var pushed, pulled, scanned, evaluated, built sql.NullInt64
	var running int
	err := sc.Scan(&im.ID, &im.Digest, &im.RegistryID, &im.Repository, &im.Status, &im.Error, &pushed, &pulled, &scanned, &evaluated, &built,
		&im.Counts.Critical, &im.Counts.High, &im.Counts.Medium, &im.Counts.Low, &im.Counts.Unknown, &im.Fixable, &running, &im.ReplacedBy)
	im.PushedAt, im.PulledAt, im.ScannedAt, im.LastEvaluatedAt, im.DBBuiltAt = msPtr(pushed), msPtr(pulled), msPtr(scanned), msPtr(evaluated), msPtr(built)
	im.Running = running != 0
	im.Tags = []string{}
	im.CI = []CIRun{}
	return im, err
}

// Images lists the tenant's images matching f, newest first.
func (s *Store) Images(ctx context.Context, tenantID int64, f ImageFilter) (Page[Image], error) {
	c, err := imageConds(tenantID, f)
	if err != nil {
		return Page[Image]{Items: []Image{}}, err
	}
	return s.imagePage(ctx, tenantID, c, clampLimit(f.Limit))
}

// conds is a query's WHERE conditions (joined by AND) and their arguments.
type conds struct {
	where []string
	args  []any
}

func (c *conds) add(cond string, a ...any) {
	c.where = append(c.where, cond)
	c.args = append(c.args, a...)
}

func (c *conds) sql() string { return strings.Join(c.where, " AND ") }

// imageConds turns an ImageFilter into conditions on images i; Images and
// SearchImages share it.
func imageConds(tenantID int64, f ImageFilter) (*conds, error) {
	after, err := parsePageToken(f.PageToken)
	if err != nil {
		return nil, err
	}
	c := &conds{}
	if f.Repository != "" {
		// The repository's few images come from images(repository_id,
		// digest): "+ 0" and the registry inside the subquery keep
		// SQLite's planner (no statistics) from walking every image of
		// the tenant or registry in id order instead.
		c.add("i.tenant_id + 0 = ?", tenantID)
		if f.RegistryID != "" {
			c.add("i.repository_id IN (SELECT rp.id FROM repositories rp WHERE rp.tenant_id = ? AND rp.registry_id = ? AND rp.name = ?)", tenantID, registryFilter(f.RegistryID), f.Repository)
		} else {
			c.add("i.repository_id IN (SELECT rp.id FROM repositories rp WHERE rp.tenant_id = ? AND rp.name = ?)", tenantID, f.Repository)
		}
	} else {
		c.add("i.tenant_id = ?", tenantID)
		if f.RegistryID != "" {
			c.add("i.registry_id = ?", registryFilter(f.RegistryID))
		}
	}
	if !f.IncludeDeleted {
		c.add("i.deleted_at IS NULL")
	}
	if after > 0 {
		c.add("i.id < ?", after)
	}
	if f.Digest != "" {
		c.add("i.digest = ?", f.Digest)
	}
	if len(f.Severity) > 0 {
		var ors []string
		for _, sev := range f.Severity {
			switch sev {
			case "critical", "high", "medium", "low", "unknown":
				ors = append(ors, "i."+sev+" > 0")
			default:
				return nil, errors.New("severity: want critical, high, medium, low or unknown")
			}
		}
		c.add("(" + strings.Join(ors, " OR ") + ")")
	}
	if f.Fixable != nil {
		if *f.Fixable {
			c.add("i.fixable > 0")
		} else {
			c.add("i.fixable = 0")
		}
	}
	if f.Running != nil {
		c.add(runningExpr+" = ?", boolInt(*f.Running))
	}
	// Lists built once from the findings indexes, not a probe per image.
	if f.CVE != "" {
		c.add("i.id IN (SELECT fc.image_id FROM findings fc WHERE fc.vuln_id = ? AND fc.state = 'open')", f.CVE)
	}
	if f.Package != "" {
		c.add("i.id IN (SELECT fp.image_id FROM findings fp WHERE fp.package = ? AND fp.state = 'open')", f.Package)
	}
	return c, nil
}

// imagePage runs one page of an image listing (newest first) under c and
// fills tags and CI runs.
func (s *Store) imagePage(ctx context.Context, tenantID int64, c *conds, limit int) (Page[Image], error) {
	q := "SELECT " + imageColumns + " FROM images i JOIN repositories p ON p.id = i.repository_id WHERE " + c.sql() + " ORDER BY i.id DESC LIMIT ?"
	page, err := queryPage(ctx, s, q, c.args, limit, scanImage, func(im Image) int64 { return im.ID })
	if err != nil {
		return page, err
	}
	return page, s.decorate(ctx, tenantID, page.Items)
}

// queryPage runs q, which ends in "LIMIT ?", for one row more than limit:
// that row says there is a next page, whose token is the id of the last
// item kept (lists are ordered by id, newest first).
func queryPage[T any](ctx context.Context, s *Store, q string, args []any, limit int, scan func(interface{ Scan(...any) error }) (T, error), id func(T) int64) (Page[T], error) {
	page := Page[T]{Items: []T{}}
	rows, err := s.query(ctx, q, append(args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextPageToken = pageToken(id(page.Items[limit-1]))
	}
	return page, nil
}

// images runs an image query (columns imageColumns) and fills tags and CI
// runs.
func (s *Store) images(ctx context.Context, tenantID int64, q string, args ...any) ([]Image, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Image{}
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.decorate(ctx, tenantID, out)
}

// decorate fills tags and CI runs for a page of images in two queries.
func (s *Store) decorate(ctx context.Context, tenantID int64, ims []Image) error {
	if len(ims) == 0 {
		return nil
	}
	byID := map[int64]*Image{}
	byDigest := map[string][]*Image{}
	ids := make([]any, 0, len(ims))
	digests := make([]any, 0, len(ims))
	for i := range ims {
		byID[ims[i].ID] = &ims[i]
		ids = append(ids, ims[i].ID)
		if len(byDigest[ims[i].Digest]) == 0 {
			digests = append(digests, ims[i].Digest)
		}
		byDigest[ims[i].Digest] = append(byDigest[ims[i].Digest], &ims[i])
	}
	rows, err := s.query(ctx, "SELECT image_id, tag FROM tags WHERE image_id IN ("+placeholders(len(ids))+") ORDER BY tag", ids...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			rows.Close()
			return err
		}
		byID[id].Tags = append(byID[id].Tags, tag)
	}
	rows.Close()
	rows, err = s.query(ctx, `SELECT digest, provider, workflow, run_id, run_url, repository, commit_sha, ref, created_at FROM ci_runs
		WHERE tenant_id = ? AND digest IN (`+placeholders(len(digests))+") ORDER BY id DESC", append([]any{tenantID}, digests...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		var c CIRun
		var at int64
		if err := rows.Scan(&d, &c.Provider, &c.Workflow, &c.RunID, &c.RunURL, &c.Repository, &c.Commit, &c.Ref, &at); err != nil {
			return err
		}
		c.CreatedAt = msTime(at)
		for _, im := range byDigest[d] {
			im.CI = append(im.CI, c)
		}
	}
	return rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Image returns the tenant's image with digest: the most recently
// evaluated one when the digest is in several repositories.
func (s *Store) Image(ctx context.Context, tenantID int64, digest string) (Image, error) {
	q := "SELECT " + imageColumns + ` FROM images i JOIN repositories p ON p.id = i.repository_id
		WHERE i.tenant_id = ? AND i.digest = ? ORDER BY i.deleted_at IS NULL DESC, i.last_evaluated_at IS NULL, i.last_evaluated_at DESC, i.id DESC LIMIT 1`
	im, err := scanImage(s.queryRow(ctx, q, tenantID, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return im, ErrNotFound
	}
	if err != nil {
		return im, err
	}
	ims := []Image{im}
	err = s.decorate(ctx, tenantID, ims)
	return ims[0], err
}

// Finding is a report finding (the CLI's vulnerabilities[] entry) with its
// lifecycle in this image.
type Finding struct {
	vuln.Finding
	State       string `json:"state"`
	FirstSeenAt Time   `json:"first_seen_at"`
	ResolvedAt  *Time  `json:"resolved_at"`
	// DBBuiltAt is the build of the DB the finding was last evaluated with.
	DBBuiltAt *Time `json:"db_built_at"`
	// Image is the digest (set in tenant-wide finding lists).
	Image string `json:"image,omitempty"`
	id    int64
}

// FindingFilter selects findings.
type FindingFilter struct {
	// Digest limits to one image (required by the image endpoint).
	Digest string
	// States keeps these states (open, suppressed, fixed, replaced); empty
	// means all.
	States   []string
	Severity []string
	Fixable  *bool
	CVE      string
	Package  string
	// Running keeps findings of images running in a cluster.
	Running   *bool
	Limit     int
	PageToken string
}

// Findings lists the tenant's findings, by image digest when f.Digest is
// set (that image only), else across the tenant; newest first.
func (s *Store) Findings(ctx context.Context, tenantID int64, f FindingFilter) (Page[Finding], error) {
	page := Page[Finding]{Items: []Finding{}}
	after, err := parsePageToken(f.PageToken)
	if err != nil {
		return page, err
	}
	c := &conds{}
	add := c.add
	add("i.tenant_id = ?", tenantID)
	if f.Digest != "" {
		im, err := s.Image(ctx, tenantID, f.Digest)
		if err != nil {
			return page, err
		}
		add("i.id = ?", im.ID)
	} else {
		add("i.deleted_at IS NULL")
	}
	if after > 0 {
		add("f.id < ?", after)
	}
	if len(f.States) > 0 {
		add("f.state IN ("+placeholders(len(f.States))+")", anys(f.States)...)
	}
	if len(f.Severity) > 0 {
		add("f.severity IN ("+placeholders(len(f.Severity))+")", anys(f.Severity)...)
	}
	if f.Fixable != nil {
		add("f.fixable = ?", boolInt(*f.Fixable))
	}
	if f.CVE != "" {
		add("f.vuln_id = ?", f.CVE)
	}
	if f.Package != "" {
		add("f.package = ?", f.Package)
	}
	if f.Running != nil {
		add(runningExpr+" = ?", boolInt(*f.Running))
	}
	q := `SELECT f.id, f.state, f.first_seen_at, f.resolved_at, f.db_built_at, f.data, i.digest FROM findings f JOIN images i ON i.id = f.image_id
		WHERE ` + c.sql() + " ORDER BY f.id DESC LIMIT ?"
	return queryPage(ctx, s, q, c.args, clampLimit(f.Limit), func(sc interface{ Scan(...any) error }) (Finding, error) {
		var fd Finding
		var first int64
		var resolved, built sql.NullInt64
		var data string
		if err := sc.Scan(&fd.id, &fd.State, &first, &resolved, &built, &data, &fd.Image); err != nil {
			return fd, err
		}
		fd.FirstSeenAt, fd.ResolvedAt, fd.DBBuiltAt = msTime(first), msPtr(resolved), msPtr(built)
		if f.Digest != "" {
			fd.Image = ""
		}
		return fd, json.Unmarshal([]byte(data), &fd.Finding)
	}, func(fd Finding) int64 { return fd.id })
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Repository is a repository with its image and finding counts.
type Repository struct {
	ID         int64  `json:"id"`
	RegistryID string `json:"registry_id"`
	Name       string `json:"name"`
	Images     int    `json:"images"`
	Unhealthy  int    `json:"unhealthy_images"`
	Counts     Counts `json:"counts"`
}

// RepositoryFilter selects repositories.
type RepositoryFilter struct {
	RegistryID string
	Limit      int
	PageToken  string
}

// Repositories lists the tenant's repositories with counts, newest first.
func (s *Store) Repositories(ctx context.Context, tenantID int64, f RepositoryFilter) (Page[Repository], error) {
	page := Page[Repository]{Items: []Repository{}}
	after, err := parsePageToken(f.PageToken)
	if err != nil {
		return page, err
	}
	where := "p.tenant_id = ?"
	args := []any{tenantID}
	if f.RegistryID != "" {
		where += " AND p.registry_id = ?"
		args = append(args, registryFilter(f.RegistryID))
	}
	if after > 0 {
		where += " AND p.id < ?"
		args = append(args, after)
	}
	// Page the repositories first, then count only their images.
	q := `SELECT p.id, p.registry_id, p.name, COUNT(i.id),
		COALESCE(SUM(CASE WHEN i.critical + i.high + i.medium + i.low + i.unknown > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(i.critical), 0), COALESCE(SUM(i.high), 0), COALESCE(SUM(i.medium), 0), COALESCE(SUM(i.low), 0), COALESCE(SUM(i.unknown), 0)
		FROM (SELECT p.id, p.registry_id, p.name FROM repositories p WHERE ` + where + ` ORDER BY p.id DESC LIMIT ?) p
		LEFT JOIN images i ON i.repository_id = p.id AND i.deleted_at IS NULL
		GROUP BY p.id, p.registry_id, p.name ORDER BY p.id DESC`
	return queryPage(ctx, s, q, args, clampLimit(f.Limit), func(sc interface{ Scan(...any) error }) (Repository, error) {
		var r Repository
		err := sc.Scan(&r.ID, &r.RegistryID, &r.Name, &r.Images, &r.Unhealthy, &r.Counts.Critical, &r.Counts.High, &r.Counts.Medium, &r.Counts.Low, &r.Counts.Unknown)
		return r, err
	}, func(r Repository) int64 { return r.ID })
}

// Summary is the tenant-wide view: open findings by severity and images by
// status.
type Summary struct {
	Counts    Counts         `json:"counts"`
	Images    int            `json:"images"`
	Unhealthy int            `json:"unhealthy_images"`
	ByStatus  map[string]int `json:"images_by_status"`
}

// Summary counts the tenant's open findings and images.
func (s *Store) Summary(ctx context.Context, tenantID int64) (Summary, error) {
	sum := Summary{ByStatus: map[string]int{}}
	rows, err := s.query(ctx, `SELECT status, COUNT(*), COALESCE(SUM(CASE WHEN critical + high + medium + low + unknown > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(critical), 0), COALESCE(SUM(high), 0), COALESCE(SUM(medium), 0), COALESCE(SUM(low), 0), COALESCE(SUM(unknown), 0)
		FROM images WHERE tenant_id = ? AND deleted_at IS NULL GROUP BY status`, tenantID)
	if err != nil {
		return sum, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n, unhealthy int
		var c Counts
		if err := rows.Scan(&st, &n, &unhealthy, &c.Critical, &c.High, &c.Medium, &c.Low, &c.Unknown); err != nil {
			return sum, err
		}
		sum.ByStatus[st] = n
		sum.Images += n
		sum.Unhealthy += unhealthy
		sum.Counts = sum.Counts.Add(c)
	}
	return sum, rows.Err()
}

// ImagesByStatus counts every tenant's images by status (metrics).
func (s *Store) ImagesByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.query(ctx, "SELECT status, COUNT(*) FROM images WHERE deleted_at IS NULL GROUP BY status")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
