package store

import (
	"context"
)

// RunningImage is one container a cluster reports running.
type RunningImage struct {
	Namespace string `json:"namespace"`
	Workload  string `json:"workload"`
	Container string `json:"container"`
	Image     string `json:"image"`
	Digest    string `json:"digest"`
}

// ReplaceRunning replaces the cluster's report: images with these digests
// are flagged running and count for the daily re-evaluation.
func (s *Store) ReplaceRunning(ctx context.Context, tenantID int64, cluster string, imgs []RunningImage) error {
	now := s.nowMS()
	return s.tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM running_images WHERE tenant_id = ? AND cluster = ?", tenantID, cluster); err != nil {
			return err
		}
		for _, im := range imgs {
			if _, err := tx.exec(ctx, `INSERT INTO running_images (tenant_id, cluster, namespace, workload, container, image, digest, reported_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tenantID, cluster, im.Namespace, im.Workload, im.Container, im.Image, im.Digest, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Recommendation is a Defender-style recommendation with the registries
// it finds unhealthy.
type Recommendation struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Severity    string     `json:"severity"`
	Healthy     bool       `json:"healthy"`
	Unhealthy   []Registry `json:"unhealthy_registries"`
	Description string     `json:"description"`
}

// Recommendations evaluates the tenant's recommendations.
func (s *Store) Recommendations(ctx context.Context, tenantID int64) ([]Recommendation, error) {
	regs, err := s.Registries(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	rec := Recommendation{ID: "registry-images-vulnerabilities-resolved",
		Title:       "Container registry images should have vulnerability findings resolved",
		Severity:    "high",
		Description: "Images in these registries have open vulnerability findings. Rebuild them on patched bases or upgrade the packages.",
		Unhealthy:   []Registry{}}
	for _, r := range regs {
		if r.Unhealthy > 0 {
			rec.Unhealthy = append(rec.Unhealthy, r)
		}
	}
	rec.Healthy = len(rec.Unhealthy) == 0
	return []Recommendation{rec}, nil
}
