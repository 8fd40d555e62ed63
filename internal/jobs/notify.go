package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// NotifyArgs delivers one notification to one endpoint; River retries it
// with backoff until the endpoint answers 2xx.
type NotifyArgs struct {
	TenantID int64           `json:"tenant_id"`
	HookID   string          `json:"hook_id"`
	Payload  json.RawMessage `json:"payload"`
}

func (NotifyArgs) Kind() string { return "notify" }

// Notification is the JSON body outbound webhooks receive. The
// X-Vigil-Signature header is "sha256=" + hex HMAC-SHA256 of the body
// under the endpoint's secret; X-Vigil-Timestamp is part of the body.
type Notification struct {
	Event      string         `json:"event"`
	Timestamp  time.Time      `json:"timestamp"`
	Repository string         `json:"repository"`
	Digest     string         `json:"digest"`
	Findings   []vuln.Finding `json:"findings"`
}

// Sign is the X-Vigil-Signature value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NotifyOpened queues notifications of findings newly opened on an image
// for each endpoint whose severity they reach.
func (q *Queue) NotifyOpened(ctx context.Context, imageID int64, opened []vuln.Finding) error {
	if len(opened) == 0 {
		return nil
	}
	tenantID, repo, digest, err := q.deps.Store.ImageRef(ctx, imageID)
	if err != nil {
		return err
	}
	hooks, err := q.deps.Store.OutboundWebhooks(ctx, tenantID)
	if err != nil || len(hooks) == 0 {
		return err
	}
	for _, h := range hooks {
		var sel []vuln.Finding
		for _, f := range opened {
			if f.Suppressed == nil && (f.Severity == vuln.SeverityCritical || (h.MinSeverity == "high" && f.Severity == vuln.SeverityHigh)) {
				sel = append(sel, f)
			}
		}
		if len(sel) == 0 {
			continue
		}
		body, err := json.Marshal(Notification{Event: "findings.new", Timestamp: time.Now().UTC(), Repository: repo, Digest: digest, Findings: sel})
		if err != nil {
			return err
		}
		if _, err := q.c.Insert(ctx, NotifyArgs{TenantID: tenantID, HookID: h.ID, Payload: body}, &river.InsertOpts{MaxAttempts: 8}); err != nil {
			return err
		}
	}
	return nil
}

type notifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	q *Queue
}

var notifyClient = &http.Client{Timeout: 10 * time.Second}

func (w *notifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	hooks, err := w.q.deps.Store.OutboundWebhooks(ctx, job.Args.TenantID)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if h.ID != job.Args.HookID {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, "POST", h.URL, bytes.NewReader(job.Args.Payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Vigil-Signature", Sign(h.Secret(), job.Args.Payload))
		req.Header.Set("X-Vigil-Delivery", strconv.FormatInt(job.ID, 10))
		resp, err := notifyClient.Do(req)
		if err != nil {
			return fmt.Errorf("delivering to %s: %w", h.URL, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("delivering to %s: status %d", h.URL, resp.StatusCode)
		}
		return nil
	}
	return nil // the endpoint was removed
}
