package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// Finding states.
const (
	StateOpen       = "open"
	StateSuppressed = "suppressed" // an exception or VEX statement applies
	StateFixed      = "fixed"      // a later evaluation no longer finds it
	StateReplaced   = "replaced"   // the tag moved to an image without it
)

// Evaluation is one matching result for an image.
type Evaluation struct {
	ImageID int64
	// Kind is "scan", "reevaluate" (advisory change) or "daily".
	Kind     string
	DBBuilt  time.Time
	Findings []vuln.Finding
}

// EvaluationOutcome says what changed.
type EvaluationOutcome struct {
	// Opened are findings that are open now and were not before.
	Opened []vuln.Finding
	Fixed  int
	Counts Counts
}

func findingKey(f *vuln.Finding) string {
	return f.ID + "\x1f" + f.Package.Type + "\x1f" + f.Package.Name + "\x1f" + f.Package.Path
}

func fixable(f *vuln.Finding) bool {
	return f.FixState == vuln.FixStateFixed && len(f.FixedVersions) > 0
}

type storedFinding struct {
	id    int64
	state string
	data  string
}

// ApplyEvaluation records an evaluation: new findings are inserted with
// first_seen_at, changed ones updated, findings no longer present are
// fixed, the image's counts and last_evaluated_at are updated, and images
// this one replaced (a tag moved here) get the findings it does not have
// resolved as replaced. Unchanged findings cost no write.
func (s *Store) ApplyEvaluation(ctx context.Context, ev Evaluation) (EvaluationOutcome, error) {
	outs, err := s.ApplyEvaluations(ctx, []Evaluation{ev})
	if err != nil {
		return EvaluationOutcome{}, err
	}
	return outs[0], nil
}

// ApplyEvaluations records several images' evaluations in one transaction
// (a re-evaluation batch): one commit, and on PostgreSQL one WAL flush, for
// all of them instead of one per image.
func (s *Store) ApplyEvaluations(ctx context.Context, evs []Evaluation) ([]EvaluationOutcome, error) {
	outs := make([]EvaluationOutcome, len(evs))
	err := s.tx(ctx, func(tx *Tx) error {
		ids := make([]int64, len(evs))
		for i, ev := range evs {
			var err error
			if outs[i], err = s.applyEvaluation(ctx, tx, ev); err != nil {
				return fmt.Errorf("image %d: %w", ev.ImageID, err)
			}
			ids[i] = ev.ImageID
		}
		// The web UI's overview rollups (ui_rollup.go), once for the batch.
		return refreshEvaluated(ctx, tx, s.nowMS(), ids...)
	})
	return outs, err
}

func (s *Store) applyEvaluation(ctx context.Context, tx *Tx, ev Evaluation) (EvaluationOutcome, error) {
	var out EvaluationOutcome
	now := s.nowMS()
	built := nullMS(ev.DBBuilt)
	type row struct {
		key, data, sev string
		f              *vuln.Finding
	}
	rowsNew := make([]row, 0, len(ev.Findings))
	openPairs := map[string]bool{}
	for i := range ev.Findings {
		f := &ev.Findings[i]
		b, err := json.Marshal(f)
		if err != nil {
			return out, err
		}
		rowsNew = append(rowsNew, row{key: findingKey(f), data: string(b), sev: severityName(f.Severity), f: f})
	}
	err := func() error {
		old := map[string]storedFinding{}
		rs, err := tx.query(ctx, "SELECT id, finding_key, state, data FROM findings WHERE image_id = ?", ev.ImageID)
		if err != nil {
			return err
		}
		for rs.Next() {
			var k string
			var sf storedFinding
			if err := rs.Scan(&sf.id, &k, &sf.state, &sf.data); err != nil {
				rs.Close()
				return err
			}
			old[k] = sf
		}
		rs.Close()
		var counts Counts
		nFixable := 0
		seen := map[string]bool{}
		for _, r := range rowsNew {
			if seen[r.key] {
				continue
			}
			seen[r.key] = true
			state := StateOpen
			if r.f.Suppressed != nil {
				state = StateSuppressed
			}
			prev, had := old[r.key]
			if had && prev.state == StateReplaced {
				state = StateReplaced
			}
			if state == StateOpen {
				counts = counts.addSeverity(r.sev)
				openPairs[r.f.ID+"\x1f"+r.f.Package.Name] = true
				if fixable(r.f) {
					nFixable++
				}
				if !had || prev.state != StateOpen {
					out.Opened = append(out.Opened, *r.f)
				}
			}
			switch {
			case !had:
				_, err = tx.exec(ctx, `INSERT INTO findings (image_id, finding_key, vuln_id, package, severity, fixable, state, first_seen_at, db_built_at, data)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ev.ImageID, r.key, r.f.ID, r.f.Package.Name, r.sev, boolInt(fixable(r.f)), state, now, built, r.data)
			case prev.data != r.data || prev.state != state:
				_, err = tx.exec(ctx, `UPDATE findings SET severity = ?, fixable = ?, state = ?, resolved_at = CASE WHEN ? = 'replaced' THEN resolved_at ELSE NULL END, db_built_at = ?, data = ? WHERE id = ?`,
					r.sev, boolInt(fixable(r.f)), state, state, built, r.data, prev.id)
			}
			if err != nil {
				return err
			}
		}
		for k, prev := range old {
			if seen[k] || (prev.state != StateOpen && prev.state != StateSuppressed) {
				continue
			}
			if _, err := tx.exec(ctx, "UPDATE findings SET state = ?, resolved_at = ?, db_built_at = ? WHERE id = ?", StateFixed, now, built, prev.id); err != nil {
				return err
			}
			if prev.state == StateOpen {
				out.Fixed++
			}
		}
		out.Counts = counts
		if _, err := tx.exec(ctx, `UPDATE images SET status = 'scanned', error = '', critical = ?, high = ?, medium = ?, low = ?, unknown = ?, fixable = ?,
			last_evaluated_at = ?, db_built_at = ? WHERE id = ?`,
			counts.Critical, counts.High, counts.Medium, counts.Low, counts.Unknown, nFixable, now, built, ev.ImageID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO evaluations (image_id, kind, db_built_at, findings, created_at) VALUES (?, ?, ?, ?, ?)",
			ev.ImageID, ev.Kind, built, counts.Total(), now); err != nil {
			return err
		}
		return s.resolveReplaced(ctx, tx, ev.ImageID, openPairs, now)
	}()
	return out, err
}

func (c Counts) addSeverity(sev string) Counts {
	switch sev {
	case "critical":
		c.Critical++
	case "high":
		c.High++
	case "medium":
		c.Medium++
	case "low":
		c.Low++
	default:
		c.Unknown++
	}
	return c
}

// resolveReplaced resolves, in every image replaced by imageID, the open
// findings imageID does not have (same vulnerability in the same package),
// and recounts those images.
func (s *Store) resolveReplaced(ctx context.Context, tx *Tx, imageID int64, open map[string]bool, now int64) error {
	olds, err := int64s(tx.query(ctx, "SELECT id FROM images WHERE replaced_by = ?", imageID))
	if err != nil {
		return err
	}
	for _, old := range olds {
		fr, err := tx.query(ctx, "SELECT id, vuln_id, package FROM findings WHERE image_id = ? AND state = 'open'", old)
		if err != nil {
			return err
		}
		var resolve []int64
		for fr.Next() {
			var id int64
			var v, p string
			if err := fr.Scan(&id, &v, &p); err != nil {
				fr.Close()
				return err
			}
			if !open[v+"\x1f"+p] {
				resolve = append(resolve, id)
			}
		}
		fr.Close()
		for _, id := range resolve {
			if _, err := tx.exec(ctx, "UPDATE findings SET state = ?, resolved_at = ? WHERE id = ?", StateReplaced, now, id); err != nil {
				return err
			}
		}
		if err := recount(ctx, tx, old); err != nil {
			return err
		}
	}
	return nil
}

// recount recomputes an image's open-finding counts from its findings.
func recount(ctx context.Context, tx *Tx, imageID int64) error {
	rs, err := tx.query(ctx, "SELECT severity, fixable FROM findings WHERE image_id = ? AND state = 'open'", imageID)
	if err != nil {
		return err
	}
	var c Counts
	nFix := 0
	for rs.Next() {
		var sev string
		var fx int
		if err := rs.Scan(&sev, &fx); err != nil {
			rs.Close()
			return err
		}
		c = c.addSeverity(sev)
		nFix += fx
	}
	rs.Close()
	_, err = tx.exec(ctx, "UPDATE images SET critical = ?, high = ?, medium = ?, low = ?, unknown = ?, fixable = ? WHERE id = ?",
		c.Critical, c.High, c.Medium, c.Low, c.Unknown, nFix, imageID)
	return err
}

var _ = sql.ErrNoRows
