package store

import (
	"cmp"
	"context"
	"database/sql"
	"maps"
	"slices"
	"strings"
)

// The overview's findings-wide numbers (fixable and KEV counts, the
// vulnerabilities in the most images, the 30-day trend) are rollups kept
// up to date in the transaction that changes an image's findings, so the
// overview reads a few thousand small rows instead of every open finding.
//
// Each image's contribution is stored (ui_image_rollup, its vulnerability
// list in ui_image_vulns); a refresh
// recomputes it from the image's open findings and applies the difference
// to the tenant's per-vulnerability image counts (ui_vuln_images) and its
// per-day change of open findings (ui_open_delta). Evaluations refresh
// their images; deletions and restores, which only flip images.deleted_at,
// are caught up by syncRollups before the overview reads.

// rollup is what one image contributes to its tenant's overview.
type rollup struct {
	exists       bool
	tenant       int64
	live         bool
	open         int
	fixable, kev Counts
	vulns        map[string]int // open vulnerability id -> severity rank
	encoded      string         // vulns as stored (encodeVulns)
	openByDay    map[int64]int  // open findings by the day first seen
}

func severityRank(sev string) int {
	if i := slices.Index(Severities, sev); i >= 0 {
		return i
	}
	return len(Severities) - 1
}

// contribution is the number of open findings the image adds to its
// tenant's total: none once deleted.
func (r rollup) contribution() int {
	if !r.live {
		return 0
	}
	return r.open
}

func (r rollup) same(o rollup) bool {
	return r.exists && o.exists && r.tenant == o.tenant && r.live == o.live && r.open == o.open &&
		r.fixable == o.fixable && r.kev == o.kev && r.encoded == o.encoded
}

// encodeVulns writes the vulnerability set as sorted "<rank><id>" lines.
func encodeVulns(m map[string]int) string {
	lines := make([]string, 0, len(m))
	for id, rank := range m {
		lines = append(lines, string(rune('0'+rank))+id)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func decodeVulns(s string) map[string]int {
	m := map[string]int{}
	for line := range strings.SplitSeq(s, "\n") {
		if len(line) > 1 {
			m[line[1:]] = int(line[0] - '0')
		}
	}
	return m
}

const rollupCountCols = `fixable_critical, fixable_high, fixable_medium, fixable_low, fixable_unknown, kev_critical, kev_high, kev_medium, kev_low, kev_unknown`

// storedCountCols are rollupCountCols of ui_image_rollup r.
var storedCountCols = "r." + strings.ReplaceAll(rollupCountCols, ", ", ", r.")

// loadRollup returns the image's stored rollup (old; exists is false when
// there is none) and its current one, computed from its findings. On
// PostgreSQL it locks the image row first, so a concurrent refresh of the
// same image waits and then sees this one's result.
func loadRollup(ctx context.Context, tx *Tx, imageID int64) (old, cur rollup, err error) {
	lock := ""
	if tx.d == postgres {
		lock = " FOR UPDATE OF i"
	}
	var live int
	// The stored columns are NULL when the image has no rollup yet.
	var stored [13]sql.NullInt64
	var vulns sql.NullString
	dest := []any{&cur.tenant, &live}
	for i := range stored {
		dest = append(dest, &stored[i])
	}
	err = tx.queryRow(ctx, `SELECT i.tenant_id, CASE WHEN i.deleted_at IS NULL THEN 1 ELSE 0 END, r.tenant_id, r.live, r.open_findings, `+storedCountCols+`, v.vulns
		FROM images i LEFT JOIN ui_image_rollup r ON r.image_id = i.id LEFT JOIN ui_image_vulns v ON v.image_id = i.id WHERE i.id = ?`+lock, imageID).
		Scan(append(dest, &vulns)...)
	if err != nil {
		return old, cur, err
	}
	n := func(i int) int { return int(stored[i].Int64) }
	old.exists, old.tenant, old.live, old.open, old.encoded = stored[0].Valid, stored[0].Int64, n(1) == 1, n(2), vulns.String
	old.fixable = Counts{Critical: n(3), High: n(4), Medium: n(5), Low: n(6), Unknown: n(7)}
	old.kev = Counts{Critical: n(8), High: n(9), Medium: n(10), Low: n(11), Unknown: n(12)}
	cur.exists, cur.live, cur.vulns, cur.openByDay = true, live == 1, map[string]int{}, map[int64]int{}
	rows, err := tx.query(ctx, `SELECT vuln_id, severity, fixable, CASE WHEN data LIKE '%"kev":{%' THEN 1 ELSE 0 END, first_seen_at
		FROM findings WHERE image_id = ? AND state = 'open'`, imageID)
	if err != nil {
		return old, cur, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, sev string
		var fix, kev int
		var first int64
		if err := rows.Scan(&id, &sev, &fix, &kev, &first); err != nil {
			return old, cur, err
		}
		cur.open++
		cur.openByDay[first/dayMS]++
		if fix == 1 {
			cur.fixable = cur.fixable.addSeverity(sev)
		}
		if kev == 1 {
			cur.kev = cur.kev.addSeverity(sev)
		}
		rank := severityRank(sev)
		if r, ok := cur.vulns[id]; !ok || rank < r {
			cur.vulns[id] = rank
		}
	}
	cur.encoded = encodeVulns(cur.vulns)
	return old, cur, rows.Err()
}

type vulnKey struct {
	tenant int64
	id     string
}

type vulnDelta struct {
	images, rank int
}

type dayKey struct{ tenant, day int64 }

// refreshRollups brings the rollups of imageIDs up to date inside tx.
func refreshRollups(ctx context.Context, tx *Tx, now int64, imageIDs ...int64) error {
	vd := map[vulnKey]vulnDelta{}
	dd := map[dayKey]int{}
	today := now / dayMS
	for _, id := range imageIDs {
		old, cur, err := loadRollup(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.same(old) {
			continue
		}
		old.vulns = decodeVulns(old.encoded)
		if old.live {
			for v := range old.vulns {
				if _, still := cur.vulns[v]; !still || !cur.live || cur.tenant != old.tenant {
					k := vulnKey{old.tenant, v}
					vd[k] = vulnDelta{images: vd[k].images - 1, rank: cmp.Or(vd[k].rank, 4)}
				}
			}
		}
		if cur.live {
			for v, rank := range cur.vulns {
				if _, had := old.vulns[v]; !had || !old.live || cur.tenant != old.tenant {
					k := vulnKey{cur.tenant, v}
					d, seen := vd[k]
					if !seen || rank < d.rank {
						d.rank = rank
					}
					d.images++
					vd[k] = d
				}
			}
		}
		if !old.exists && cur.live {
			// First rollup of an image (a new one, or one evaluated before
			// rollups existed): its open findings count from the day each
			// was first seen, so the trend keeps their history.
			for day, n := range cur.openByDay {
				dd[dayKey{cur.tenant, day}] += n
			}
		} else {
			if old.tenant != cur.tenant && old.exists {
				dd[dayKey{old.tenant, today}] -= old.contribution()
				dd[dayKey{cur.tenant, today}] += cur.contribution()
			} else {
				dd[dayKey{cur.tenant, today}] += cur.contribution() - old.contribution()
			}
		}
		f, k := cur.fixable, cur.kev
		if _, err := tx.exec(ctx, `INSERT INTO ui_image_vulns (image_id, vulns) VALUES (?, ?) ON CONFLICT (image_id) DO UPDATE SET vulns = excluded.vulns`,
			id, cur.encoded); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO ui_image_rollup (image_id, tenant_id, live, open_findings, `+rollupCountCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (image_id) DO UPDATE SET tenant_id = excluded.tenant_id, live = excluded.live, open_findings = excluded.open_findings,
			fixable_critical = excluded.fixable_critical, fixable_high = excluded.fixable_high, fixable_medium = excluded.fixable_medium,
			fixable_low = excluded.fixable_low, fixable_unknown = excluded.fixable_unknown, kev_critical = excluded.kev_critical,
			kev_high = excluded.kev_high, kev_medium = excluded.kev_medium, kev_low = excluded.kev_low, kev_unknown = excluded.kev_unknown`,
			id, cur.tenant, boolInt(cur.live), cur.open, f.Critical, f.High, f.Medium, f.Low, f.Unknown,
			k.Critical, k.High, k.Medium, k.Low, k.Unknown); err != nil {
			return err
		}
	}
	if err := applyVulnDeltas(ctx, tx, vd); err != nil {
		return err
	}
	return applyDayDeltas(ctx, tx, dd)
}

// applyVulnDeltas adds the image-count changes in key order, so concurrent
// transactions on PostgreSQL lock the shared rows in one order (no
// deadlock), then drops the vulnerabilities no live image has.
func applyVulnDeltas(ctx context.Context, tx *Tx, vd map[vulnKey]vulnDelta) error {
	keys := make([]vulnKey, 0, len(vd))
	for k, d := range vd {
		if d.images != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b vulnKey) int { return cmp.Or(cmp.Compare(a.tenant, b.tenant), strings.Compare(a.id, b.id)) })
	shrunk := map[int64]bool{}
	for chunk := range slices.Chunk(keys, 200) {
		args := make([]any, 0, 4*len(chunk))
		for _, k := range chunk {
			d := vd[k]
			args = append(args, k.tenant, k.id, d.images, d.rank)
			if d.images < 0 {
				shrunk[k.tenant] = true
			}
		}
		if _, err := tx.exec(ctx, `INSERT INTO ui_vuln_images (tenant_id, vuln_id, images, severity_rank) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?),", len(chunk)), ",")+`
			ON CONFLICT (tenant_id, vuln_id) DO UPDATE SET images = ui_vuln_images.images + excluded.images,
			severity_rank = CASE WHEN excluded.images > 0 AND excluded.severity_rank < ui_vuln_images.severity_rank THEN excluded.severity_rank ELSE ui_vuln_images.severity_rank END`,
			args...); err != nil {
			return err
		}
	}
	for _, t := range slices.Sorted(maps.Keys(shrunk)) {
		if _, err := tx.exec(ctx, "DELETE FROM ui_vuln_images WHERE tenant_id = ? AND images <= 0", t); err != nil {
			return err
		}
	}
	return nil
}

func applyDayDeltas(ctx context.Context, tx *Tx, dd map[dayKey]int) error {
	keys := make([]dayKey, 0, len(dd))
	for k, n := range dd {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b dayKey) int { return cmp.Or(cmp.Compare(a.tenant, b.tenant), cmp.Compare(a.day, b.day)) })
	for _, k := range keys {
		if _, err := tx.exec(ctx, `INSERT INTO ui_open_delta (tenant_id, day, delta) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, day) DO UPDATE SET delta = ui_open_delta.delta + excluded.delta`, k.tenant, k.day, dd[k]); err != nil {
			return err
		}
	}
	return nil
}

// refreshEvaluated refreshes, at the end of an evaluation transaction,
// the rollups of the evaluated images and of the images they replaced
// (whose findings the evaluation may have resolved). One refresh for the
// whole batch applies the shared counters' changes in one key order, so
// concurrent batches on PostgreSQL cannot deadlock on them.
func refreshEvaluated(ctx context.Context, tx *Tx, now int64, imageIDs ...int64) error {
	if len(imageIDs) == 0 {
		return nil
	}
	args := make([]any, len(imageIDs))
	for i, id := range imageIDs {
		args[i] = id
	}
	replaced, err := int64s(tx.query(ctx, "SELECT id FROM images WHERE replaced_by IN ("+placeholders(len(args))+")", args...))
	if err != nil {
		return err
	}
	ids := slices.Concat(imageIDs, replaced)
	slices.Sort(ids)
	return refreshRollups(ctx, tx, now, slices.Compact(ids)...)
}

// int64s reads a one-column integer result.
func int64s(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// syncRollups refreshes the rollups of the tenant's images whose stored
// contribution no longer matches the image: deleted or restored since,
// recounted, or evaluated before rollups existed. It joins one row per
// image, not their findings; OpenAggregates runs it when the rollups'
// checksum differs from the images'.
func (s *Store) syncRollups(ctx context.Context, tenantID int64) error {
	ids, err := int64s(s.query(ctx, `SELECT i.id FROM images i LEFT JOIN ui_image_rollup r ON r.image_id = i.id
		WHERE i.tenant_id = ? AND (
			(r.image_id IS NULL AND i.last_evaluated_at IS NOT NULL)
			OR r.live <> CASE WHEN i.deleted_at IS NULL THEN 1 ELSE 0 END
			OR r.open_findings <> i.critical + i.high + i.medium + i.low + i.unknown)
		ORDER BY i.id`, tenantID))
	if err != nil {
		return err
	}
	// Small transactions: a first sync after an upgrade may cover every image.
	for chunk := range slices.Chunk(ids, 50) {
		if err := s.tx(ctx, func(tx *Tx) error { return refreshRollups(ctx, tx, s.nowMS(), chunk...) }); err != nil {
			return err
		}
	}
	return nil
}
