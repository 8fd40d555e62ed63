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
	if err != nil {
		return rep.Vulnerabilities, err
	}
	return q.withPolicy(doc, rep, "image_id", imageID), nil
}

// withPolicy returns the report's findings with a tenant policy document
// applied; logArgs say whose policy it is when it cannot be read.
func (q *Queue) withPolicy(doc string, rep *result.Report, logArgs ...any) []vuln.Finding {
	if strings.TrimSpace(doc) == "" {
		return rep.Vulnerabilities
	}
	p, err := policy.Parse(store.PolicySource, []byte(doc))
	if err != nil {
		// Stored policies were validated on write; a bad one must not stop
		// evaluations.
		q.log.Warn("tenant policy ignored", append(logArgs, "err", err)...)
		return rep.Vulnerabilities
	}
	c := *rep
	c.Vulnerabilities = slices.Clone(rep.Vulnerabilities)
	p.Apply(&c, time.Now())
	return c.Vulnerabilities
}
