package jobs

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// tenantFindings applies the policy of the image's tenant (the exceptions
// created in the web UI, .vigil.yaml rules) to an evaluation's findings:
// an excepted finding is stored as suppressed, with the rule and reason.
func (q *Queue) tenantFindings(ctx context.Context, imageID int64, rep *result.Report) ([]vuln.Finding, error) {
	doc, err := q.deps.Store.ImagePolicy(ctx, imageID)
	if err != nil || strings.TrimSpace(doc) == "" {
		return rep.Vulnerabilities, err
	}
	p, err := policy.Parse(store.PolicySource, []byte(doc))
	if err != nil {
		// Stored policies were validated on write; a bad one must not stop
		// evaluations.
		q.log.Warn("tenant policy ignored", "image_id", imageID, "err", err)
		return rep.Vulnerabilities, nil
	}
	c := *rep
	c.Vulnerabilities = slices.Clone(rep.Vulnerabilities)
	p.Apply(&c, time.Now())
	return c.Vulnerabilities, nil
}
