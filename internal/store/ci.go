package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
)

// CIRunInput is a scan published from a CI/CD run (docs/publish.md).
type CIRunInput struct {
	IdempotencyKey string
	Digest         string
	ImageName      string
	Repository     string // the image's repository (without registry host)
	Provider       string
	Workflow       string
	RunID          string
	RunURL         string
	SourceRepo     string
	SourceRepoURL  string
	Commit         string
	Ref            string
	Report         string
}

// RecordCIRun stores a published scan once per idempotency key. It is
// linked to the tenant's images by digest, whichever arrives first; when no
// image has the digest yet, one is created outside any registry (CI only),
// and created reports that so the caller records its findings. It returns
// the run's id and, for a new CI-only image, its id.
func (s *Store) RecordCIRun(ctx context.Context, tenantID int64, in CIRunInput) (runID string, imageID int64, duplicate bool, err error) {
	now := s.nowMS()
	err = s.tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `INSERT INTO ci_runs (tenant_id, idempotency_key, digest, image_name, provider, workflow, run_id, run_url, repository, repository_url, commit_sha, ref, report, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			tenantID, in.IdempotencyKey, in.Digest, in.ImageName, in.Provider, in.Workflow, in.RunID, in.RunURL, in.SourceRepo, in.SourceRepoURL, in.Commit, in.Ref, in.Report, now)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		duplicate = n == 0
		var id int64
		if err := tx.queryRow(ctx, "SELECT id FROM ci_runs WHERE tenant_id = ? AND idempotency_key = ?", tenantID, in.IdempotencyKey).Scan(&id); err != nil {
			return err
		}
		runID = "ci_" + strconv.FormatInt(id, 10)
		if duplicate || in.Digest == "" {
			return nil
		}
		var existing int64
		err = tx.queryRow(ctx, "SELECT id FROM images WHERE tenant_id = ? AND digest = ? AND deleted_at IS NULL LIMIT 1", tenantID, in.Digest).Scan(&existing)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		repoID, err := ensureRepository(ctx, tx, tenantID, "", in.Repository, now)
		if err != nil {
			return err
		}
		imageID, _, err = ensureImage(ctx, tx, tenantID, "", repoID, in.Digest)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, "UPDATE images SET pushed_at = ?, scanned_at = ? WHERE id = ?", now, now, imageID)
		return err
	})
	return runID, imageID, duplicate, err
}
