package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// This file holds the reads only the web UI (internal/web) makes: the
// overview's aggregates, text search over images, findings with their row
// ids (the UI links a finding by id), and the remediation history. Every
// query is tenant-scoped like the rest of the store.

// FindingRow is a stored finding with its row id and image.
type FindingRow struct {
	ID          int64
	Digest      string
	Repository  string
	State       string
	FirstSeenAt time.Time
	ResolvedAt  *time.Time
	Finding     vuln.Finding
}

const findingRowColumns = `f.id, i.digest, p.name, f.state, f.first_seen_at, f.resolved_at, f.data`

func scanFindingRow(sc interface{ Scan(...any) error }) (FindingRow, error) {
	var r FindingRow
	var first int64
	var resolved sql.NullInt64
	var data string
	if err := sc.Scan(&r.ID, &r.Digest, &r.Repository, &r.State, &first, &resolved, &data); err != nil {
		return r, err
	}
	r.FirstSeenAt, r.ResolvedAt = msTime(first), msPtr(resolved)
	return r, json.Unmarshal([]byte(data), &r.Finding)
}

// maxImageFindings bounds what ImageFindingRows loads for one image (the UI
// sorts and filters one image's findings in memory).
const maxImageFindings = 20000

// ImageFindingRows returns every finding of the tenant's image digest (all
// states), at most maxImageFindings.
func (s *Store) ImageFindingRows(ctx context.Context, tenantID int64, digest string) ([]FindingRow, error) {
	im, err := s.Image(ctx, tenantID, digest)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT `+findingRowColumns+` FROM findings f JOIN images i ON i.id = f.image_id JOIN repositories p ON p.id = i.repository_id
		WHERE f.image_id = ? LIMIT ?`, im.ID, maxImageFindings)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FindingRow
	for rows.Next() {
		r, err := scanFindingRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FindingByID returns one finding of the tenant's image digest.
func (s *Store) FindingByID(ctx context.Context, tenantID int64, digest string, id int64) (FindingRow, error) {
	r, err := scanFindingRow(s.queryRow(ctx, `SELECT `+findingRowColumns+` FROM findings f JOIN images i ON i.id = f.image_id JOIN repositories p ON p.id = i.repository_id
		WHERE f.id = ? AND i.tenant_id = ? AND i.digest = ?`, id, tenantID, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// OpenFindingsOf lists the tenant's open findings of one vulnerability id or
// package name (exactly one of them set) across images that are not
// deleted, newest first, paginated.
func (s *Store) OpenFindingsOf(ctx context.Context, tenantID int64, vulnID, pkg, pageTok string, limit int) (Page[FindingRow], error) {
	page := Page[FindingRow]{Items: []FindingRow{}}
	after, err := parsePageToken(pageTok)
	if err != nil {
		return page, err
	}
	where := "i.tenant_id = ? AND i.deleted_at IS NULL AND f.state = 'open'"
	args := []any{tenantID}
	if vulnID != "" {
		where += " AND f.vuln_id = ?"
		args = append(args, vulnID)
	} else {
		where += " AND f.package = ?"
		args = append(args, pkg)
	}
	if after > 0 {
		where += " AND f.id < ?"
		args = append(args, after)
	}
	return queryPage(ctx, s, `SELECT `+findingRowColumns+` FROM findings f JOIN images i ON i.id = f.image_id JOIN repositories p ON p.id = i.repository_id
		WHERE `+where+` ORDER BY f.id DESC LIMIT ?`, args, clampLimit(limit), scanFindingRow, func(r FindingRow) int64 { return r.ID })
}

// ImageSearch is a text search over the tenant's images: Text matches the
// repository name, a tag or the digest (substrings); an image reference
// "host/repo:tag" or "repo@sha256:…" is split into its parts first.
type ImageSearch struct {
	Text       string
	RegistryID string
	Repository string
	Severity   string // critical, high, medium, low, unknown
	Running    bool
	// VulnID keeps images with an open finding of this id.
	VulnID    string
	Limit     int
	PageToken string
}

// likeEscape escapes LIKE wildcards; queries use ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SearchImages lists the tenant's images (not deleted) matching q, newest first.
func (s *Store) SearchImages(ctx context.Context, tenantID int64, q ImageSearch) (Page[Image], error) {
	f := ImageFilter{RegistryID: q.RegistryID, Repository: q.Repository, CVE: q.VulnID, PageToken: q.PageToken}
	if q.Severity != "" {
		f.Severity = []string{q.Severity}
	}
	if q.Running {
		f.Running = &q.Running
	}
	c, err := imageConds(tenantID, f)
	if err != nil {
		return Page[Image]{Items: []Image{}}, err
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		repo, tag, digest := splitReference(t)
		if digest != "" {
			c.add("i.digest LIKE ? ESCAPE '\\'", likeEscape(digest)+"%")
		}
		if repo != "" {
			// Matches are looked up in lists built once (repositories and
			// tags whose names contain the text), not per image; a digest
			// can only contain hex text.
			like := "%" + likeEscape(repo) + "%"
			inRepo := "i.repository_id IN (SELECT rp.id FROM repositories rp WHERE rp.tenant_id = ? AND rp.name LIKE ? ESCAPE '\\')"
			if digest == "" && tag == "" {
				ors, orArgs := []string{inRepo, "i.id IN (SELECT t.image_id FROM tags t WHERE t.tag LIKE ? ESCAPE '\\')"}, []any{tenantID, like, like}
				if strings.Trim(strings.ToLower(repo), "sh:0123456789abcdef") == "" {
					ors, orArgs = append(ors, "i.digest LIKE ? ESCAPE '\\'"), append(orArgs, like)
				}
				c.add("("+strings.Join(ors, " OR ")+")", orArgs...)
			} else {
				c.add(inRepo, tenantID, like)
			}
		}
		if tag != "" {
			c.add("EXISTS (SELECT 1 FROM tags t WHERE t.image_id = i.id AND t.tag = ?)", tag)
		}
	}
	return s.imagePage(ctx, tenantID, c, clampLimit(q.Limit))
}

// splitReference splits "host/repo:tag@sha256:…" into repository (without
// a registry host), tag and digest; plain text is returned as repo.
func splitReference(t string) (repo, tag, digest string) {
	if strings.HasPrefix(t, "sha256:") {
		return "", "", t
	}
	if r, d, ok := strings.Cut(t, "@"); ok {
		t, digest = r, d
	}
	if i := strings.LastIndex(t, ":"); i > strings.LastIndex(t, "/") && i >= 0 {
		t, tag = t[:i], t[i+1:]
	}
	if first, rest, ok := strings.Cut(t, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		t = rest
	}
	return t, tag, digest
}

// MostVulnerable lists the tenant's images with the most severe open
// findings (critical first, then high, ...).
func (s *Store) MostVulnerable(ctx context.Context, tenantID int64, limit int) ([]Image, error) {
	// The top images are picked on the counts alone; the columns with
	// subqueries (running, replaced by) are computed for those only.
	const order = "i.critical DESC, i.high DESC, i.medium DESC, i.low DESC, i.unknown DESC, i.id DESC"
	return s.images(ctx, tenantID, "SELECT "+imageColumns+` FROM (SELECT i.id FROM images i
		WHERE i.tenant_id = ? AND i.deleted_at IS NULL AND i.critical + i.high + i.medium + i.low + i.unknown > 0 ORDER BY `+order+` LIMIT ?) top
		JOIN images i ON i.id = top.id JOIN repositories p ON p.id = i.repository_id ORDER BY `+order, tenantID, limit)
}

// RunningCounts sums the open findings of the tenant's running images,
// starting from the (few) running digests rather than every image (CROSS
// JOIN keeps SQLite's planner from walking the tenant's images first).
func (s *Store) RunningCounts(ctx context.Context, tenantID int64) (Counts, error) {
	var c Counts
	err := s.queryRow(ctx, `SELECT COALESCE(SUM(i.critical), 0), COALESCE(SUM(i.high), 0), COALESCE(SUM(i.medium), 0), COALESCE(SUM(i.low), 0), COALESCE(SUM(i.unknown), 0)
		FROM images i WHERE i.id IN (SELECT r.id FROM running_images ri CROSS JOIN images r
			WHERE ri.tenant_id = ? AND r.tenant_id = ri.tenant_id AND r.digest = ri.digest AND r.deleted_at IS NULL)`, tenantID).
		Scan(&c.Critical, &c.High, &c.Medium, &c.Low, &c.Unknown)
	return c, err
}

// RegistryCount is a registry's live images, those with open findings,
// and their open findings by severity.
type RegistryCount struct {
	Images, Unhealthy int
	Counts            Counts
}

// liveTotals are RegistryCounts and a checksum of which images have open
// findings, to compare with the rollups.
type liveTotals struct {
	byRegistry map[string]RegistryCount
	check      rollupCheck
}

// rollupCheck identifies the set of images with open findings and their
// total: equal on images and on the rollups when those are in sync.
type rollupCheck struct {
	unhealthy, open, idSum int64
}

// RegistryCounts counts the tenant's live images per registry id ("" for
// CI-only images) in one pass over its images.
func (s *Store) RegistryCounts(ctx context.Context, tenantID int64) (map[string]RegistryCount, error) {
	t, err := s.liveTotals(ctx, tenantID)
	return t.byRegistry, err
}

func (s *Store) liveTotals(ctx context.Context, tenantID int64) (liveTotals, error) {
	out := liveTotals{byRegistry: map[string]RegistryCount{}}
	rows, err := s.query(ctx, `SELECT registry_id, COUNT(*), COALESCE(SUM(CASE WHEN critical + high + medium + low + unknown > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(critical), 0), COALESCE(SUM(high), 0), COALESCE(SUM(medium), 0), COALESCE(SUM(low), 0), COALESCE(SUM(unknown), 0),
		COALESCE(SUM(CASE WHEN critical + high + medium + low + unknown > 0 THEN id ELSE 0 END), 0)
		FROM images WHERE tenant_id = ? AND deleted_at IS NULL GROUP BY registry_id`, tenantID)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var r RegistryCount
		var idSum int64
		c := &r.Counts
		if err := rows.Scan(&id, &r.Images, &r.Unhealthy, &c.Critical, &c.High, &c.Medium, &c.Low, &c.Unknown, &idSum); err != nil {
			return out, err
		}
		out.byRegistry[id] = r
		out.check.unhealthy += int64(r.Unhealthy)
		out.check.open += int64(c.Total())
		out.check.idSum += idSum
	}
	return out, rows.Err()
}

// OpenAggregates are the overview's numbers.
type OpenAggregates struct {
	// Open counts the open findings of live images, Images those images,
	// ByRegistry both per registry id ("" for CI-only images).
	Open       Counts
	Images     int
	ByRegistry map[string]RegistryCount
	Fixable    Counts
	KEV        Counts
	Top        []VulnImpact
	// Trend is the open findings at the end of each of the last days,
	// oldest first.
	Trend []TrendDay
}

// VulnImpact is a vulnerability and how many images have it open.
type VulnImpact struct {
	ID       string
	Severity string
	Images   int
}

// TrendDay is the number of open findings at the end of a UTC day.
type TrendDay struct {
	Day  time.Time
	Open int
}

const dayMS = int64(24 * time.Hour / time.Millisecond)

// OpenAggregates computes the overview from one pass over the tenant's
// images and its rollups (ui_rollup.go): open findings per registry,
// fixable and KEV counts by severity, the top vulnerabilities by the
// number of images with them open, and the open findings at the end of
// each of the last days. The cost follows the number of images and
// vulnerabilities, not of findings.
func (s *Store) OpenAggregates(ctx context.Context, tenantID int64, top, days int) (OpenAggregates, error) {
	out := OpenAggregates{}
	live, err := s.liveTotals(ctx, tenantID)
	if err != nil {
		return out, err
	}
	out.ByRegistry = live.byRegistry
	for _, r := range live.byRegistry {
		out.Open, out.Images = out.Open.Add(r.Counts), out.Images+r.Images
	}
	check, err := s.rollupSums(ctx, tenantID, &out)
	if err != nil {
		return out, err
	}
	if check != live.check {
		// Images deleted, restored or evaluated before rollups existed
		// since the last overview: bring their rollups up to date.
		if err := s.syncRollups(ctx, tenantID); err != nil {
			return out, err
		}
		if _, err := s.rollupSums(ctx, tenantID, &out); err != nil {
			return out, err
		}
	}
	rows, err := s.query(ctx, `SELECT vuln_id, severity_rank, images FROM ui_vuln_images WHERE tenant_id = ? AND images > 0
		ORDER BY images DESC, severity_rank, vuln_id LIMIT ?`, tenantID, top)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		var v VulnImpact
		var rank int
		if err := rows.Scan(&v.ID, &rank, &v.Images); err != nil {
			rows.Close()
			return out, err
		}
		v.Severity = Severities[min(max(rank, 0), 4)]
		out.Top = append(out.Top, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	out.Trend, err = s.openTrend(ctx, tenantID, out.Open.Total(), days)
	return out, err
}

// rollupSums reads the fixable and KEV sums of the tenant's live images'
// rollups into out, and their checksum.
func (s *Store) rollupSums(ctx context.Context, tenantID int64, out *OpenAggregates) (rollupCheck, error) {
	var c rollupCheck
	f, k := &out.Fixable, &out.KEV
	err := s.queryRow(ctx, `SELECT COALESCE(SUM(fixable_critical), 0), COALESCE(SUM(fixable_high), 0), COALESCE(SUM(fixable_medium), 0),
		COALESCE(SUM(fixable_low), 0), COALESCE(SUM(fixable_unknown), 0), COALESCE(SUM(kev_critical), 0), COALESCE(SUM(kev_high), 0),
		COALESCE(SUM(kev_medium), 0), COALESCE(SUM(kev_low), 0), COALESCE(SUM(kev_unknown), 0),
		COUNT(*), COALESCE(SUM(open_findings), 0), COALESCE(SUM(image_id), 0)
		FROM ui_image_rollup WHERE tenant_id = ? AND live = 1 AND open_findings > 0`, tenantID).
		Scan(&f.Critical, &f.High, &f.Medium, &f.Low, &f.Unknown, &k.Critical, &k.High, &k.Medium, &k.Low, &k.Unknown, &c.unhealthy, &c.open, &c.idSum)
	return c, err
}

// openTrend walks back from today's total: the open findings at the end
// of day d are openNow minus the changes of the days after d.
func (s *Store) openTrend(ctx context.Context, tenantID int64, openNow, days int) ([]TrendDay, error) {
	today := s.nowMS() / dayMS
	from := today - int64(days) + 1
	rows, err := s.query(ctx, "SELECT day, delta FROM ui_open_delta WHERE tenant_id = ? AND day > ?", tenantID, from)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	later := map[int64]int{} // change on each day after from
	for rows.Next() {
		var d int64
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, err
		}
		later[min(d, today+1)] += n // a future day (clock skew) counts as after today
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]TrendDay, days)
	open := openNow - later[today+1]
	for d := today; d >= from; d-- {
		out[d-from] = TrendDay{Day: time.UnixMilli(d * dayMS).UTC(), Open: max(open, 0)}
		open -= later[d]
	}
	return out, nil
}

// Resolution is a finding that stopped being open, or a deleted image.
type Resolution struct {
	Kind       string // fixed, replaced, deleted
	At         time.Time
	Digest     string
	Repository string
	Tags       []string
	ReplacedBy string
	VulnID     string
	Package    string
	Severity   string
	FirstSeen  time.Time
}

// Resolutions walks findings newest-resolved first through the
// findings_resolved index; CROSS JOIN keeps SQLite's planner from starting
// at the tenant's images instead (every finding of every image).
//
// Resolutions lists the tenant's resolved findings (kind fixed or replaced,
// "" both) or deleted images (kind deleted), newest first. The page token
// is the resolution time and row id of the last item.
func (s *Store) Resolutions(ctx context.Context, tenantID int64, kind, pageTok string, limit int) (Page[Resolution], error) {
	page := Page[Resolution]{Items: []Resolution{}}
	var afterAt, afterID int64
	if pageTok != "" {
		a, b, ok := strings.Cut(pageTok, "-")
		var err1, err2 error
		afterAt, err1 = strconv.ParseInt(a, 10, 64)
		afterID, err2 = strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return page, ErrBadPageToken
		}
	}
	limit = clampLimit(limit)
	var q string
	args := []any{tenantID}
	cursor := ""
	if kind == "deleted" {
		if pageTok != "" {
			cursor = " AND (i.deleted_at < ? OR (i.deleted_at = ? AND i.id < ?))"
			args = append(args, afterAt, afterAt, afterID)
		}
		q = `SELECT 'deleted', i.deleted_at, i.id, i.digest, p.name, '', '', '', '', i.pushed_at FROM images i JOIN repositories p ON p.id = i.repository_id
			WHERE i.tenant_id = ? AND i.deleted_at IS NOT NULL` + cursor + ` ORDER BY i.deleted_at DESC, i.id DESC LIMIT ?`
	} else {
		states := "'fixed', 'replaced'"
		if kind == StateFixed || kind == StateReplaced {
			states = "'" + kind + "'"
		}
		if pageTok != "" {
			cursor = " AND (f.resolved_at < ? OR (f.resolved_at = ? AND f.id < ?))"
			args = append(args, afterAt, afterAt, afterID)
		}
		q = `SELECT f.state, f.resolved_at, f.id, i.digest, p.name, COALESCE((SELECT n.digest FROM images n WHERE n.id = i.replaced_by), ''), f.vuln_id, f.package, f.severity, f.first_seen_at
			FROM findings f CROSS JOIN images i JOIN repositories p ON p.id = i.repository_id
			WHERE i.id = f.image_id AND i.tenant_id = ? AND f.resolved_at IS NOT NULL AND f.state IN (` + states + `)` + cursor + ` ORDER BY f.resolved_at DESC, f.id DESC LIMIT ?`
	}
	rows, err := s.query(ctx, q, append(args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var r Resolution
		var at, id int64
		var first sql.NullInt64
		if err := rows.Scan(&r.Kind, &at, &id, &r.Digest, &r.Repository, &r.ReplacedBy, &r.VulnID, &r.Package, &r.Severity, &first); err != nil {
			return page, err
		}
		r.At = msTime(at)
		if first.Valid {
			r.FirstSeen = msTime(first.Int64)
		}
		page.Items = append(page.Items, r)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextPageToken = strconv.FormatInt(page.Items[limit-1].At.UnixMilli(), 10) + "-" + strconv.FormatInt(ids[limit-1], 10)
	}
	return page, nil
}

// RegistryHeads lists the tenant's registries by name with their ids and
// URLs only, without the counts Registries computes per registry (the UI
// takes them from RegistryCounts, one pass for all registries).
func (s *Store) RegistryHeads(ctx context.Context, tenantID int64) ([]Registry, error) {
	rows, err := s.query(ctx, "SELECT id, name, url FROM registries WHERE tenant_id = ? ORDER BY name", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Registry{}
	for rows.Next() {
		var r Registry
		if err := rows.Scan(&r.ID, &r.Name, &r.URL); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RegistryNames maps the tenant's registry ids to names, without the
// counts Registries computes.
func (s *Store) RegistryNames(ctx context.Context, tenantID int64) (map[string]string, error) {
	rows, err := s.query(ctx, "SELECT id, name FROM registries WHERE tenant_id = ?", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		m[id] = name
	}
	return m, rows.Err()
}

// ImagesWithVuln lists the tenant's images (not deleted) with an open
// finding of vulnID, newest first; the findings index finds them, so the
// cost follows the matches, not the number of images.
func (s *Store) ImagesWithVuln(ctx context.Context, tenantID int64, vulnID string, limit int) ([]Image, error) {
	return s.images(ctx, tenantID, "SELECT "+imageColumns+` FROM images i JOIN repositories p ON p.id = i.repository_id
		WHERE i.tenant_id = ? AND i.deleted_at IS NULL AND i.id IN (SELECT f.image_id FROM findings f WHERE f.vuln_id = ? AND f.state = 'open')
		ORDER BY i.id DESC LIMIT ?`, tenantID, vulnID, limit)
}

// CIOnlyRegistryID stands, in image and repository filters, for the images
// known only from CI/CD publishes (`vigil publish`), which belong to no
// registry. Registry ids are "reg_…", so it names no real registry.
const CIOnlyRegistryID = "ci"

func registryFilter(id string) string {
	if id == CIOnlyRegistryID {
		return ""
	}
	return id
}

// RegistryWithCounts returns one of the tenant's registries, or the CI/CD
// only pseudo-registry (CIOnlyRegistryID), with its counts from one pass
// over its images (Registry computes each count in a subquery of its own).
func (s *Store) RegistryWithCounts(ctx context.Context, tenantID int64, id string) (Registry, error) {
	r := Registry{ID: CIOnlyRegistryID, Name: "CI/CD only"}
	if id != CIOnlyRegistryID {
		err := s.queryRow(ctx, "SELECT id, name, url FROM registries WHERE tenant_id = ? AND id = ?", tenantID, id).Scan(&r.ID, &r.Name, &r.URL)
		if errors.Is(err, sql.ErrNoRows) {
			return r, ErrNotFound
		}
		if err != nil {
			return r, err
		}
	}
	err := s.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN critical + high + medium + low + unknown > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(critical), 0), COALESCE(SUM(high), 0), COALESCE(SUM(medium), 0), COALESCE(SUM(low), 0), COALESCE(SUM(unknown), 0)
		FROM images WHERE tenant_id = ? AND registry_id = ? AND deleted_at IS NULL`, tenantID, registryFilter(id)).
		Scan(&r.Images, &r.Unhealthy, &r.Counts.Critical, &r.Counts.High, &r.Counts.Medium, &r.Counts.Low, &r.Counts.Unknown)
	return r, err
}
