package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-scan/vigil/internal/harbor"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/store"
)

// HarborScanArgs scans the artifact of a Harbor scan request (stored by
// the server's /harbor API) from the registry Harbor named, with the
// credentials it handed over.
type HarborScanArgs struct {
	TenantID int64  `json:"tenant_id"`
	ScanID   string `json:"scan_id"`
}

func (HarborScanArgs) Kind() string { return "harbor_scan" }

// EnqueueHarborScan queues the scan of a stored Harbor scan request.
func (q *Queue) EnqueueHarborScan(ctx context.Context, tenantID int64, scanID string) error {
	_, err := q.c.Insert(ctx, HarborScanArgs{TenantID: tenantID, ScanID: scanID}, &river.InsertOpts{MaxAttempts: q.opts.ScanAttempts})
	return err
}

type harborScanWorker struct {
	river.WorkerDefaults[HarborScanArgs]
	q *Queue
}

func (w *harborScanWorker) Work(ctx context.Context, job *river.Job[HarborScanArgs]) error {
	if err := w.q.deps.DB.Fresh(ctx); err != nil {
		w.q.log.Warn("checking the shared vulnerability DB", "err", err)
	}
	if !w.q.deps.DB.Ready() && time.Since(job.CreatedAt) < harborWaitForDB {
		// The first DB is still being built (a fresh install): wait for it
		// without spending attempts; Harbor keeps polling meanwhile.
		return river.JobSnooze(20 * w.q.opts.PollInterval)
	}
	return w.q.harborScan(ctx, job.Args.TenantID, job.Args.ScanID, job.Attempt >= job.MaxAttempts)
}

// harborWaitForDB bounds how long a Harbor scan waits for the first DB.
const harborWaitForDB = 2 * time.Hour

// harborScan reads the artifact the way registry scans do (verified diff
// IDs, through the layer store so known layers are not downloaded, and
// keeping the new ones), evaluates it with the current DB and the
// tenant's policy, and stores the Vigil report on the request. A failed
// attempt is retried; the last one fails the request, which Harbor then
// reads as an error.
func (q *Queue) harborScan(ctx context.Context, tenantID int64, id string, final bool) error {
	st := q.deps.Store
	h, err := st.HarborScanJob(ctx, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted by the retention
	}
	if err != nil {
		return err
	}
	if h.Status != store.HarborQueued {
		return nil
	}
	fail := func(err error) error {
		// Recorded even when the job's context ended (that is often why
		// it failed), but not waited on forever.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if serr := st.SetHarborScanError(rctx, tenantID, id, err, final); serr != nil {
			q.log.Error("recording Harbor scan error", "scan_id", id, "err", serr)
		}
		return err
	}
	var req harbor.ScanRequest
	if err := json.Unmarshal([]byte(h.Request), &req); err != nil {
		final = true
		return river.JobCancel(fail(fmt.Errorf("stored request: %w", err)))
	}
	req.Registry.URL, req.Registry.Authorization = h.RegistryURL, h.Authorization
	auth, err := harbor.Authenticator(req.Registry.Authorization)
	if err != nil {
		final = true
		return river.JobCancel(fail(err))
	}
	ref, insecure, err := req.Ref()
	if err != nil {
		final = true
		return river.JobCancel(fail(err))
	}
	analyzers, fp := q.analyzers()
	known := func(ctx context.Context, diffID string) (*inventory.LayerResult, error) {
		return st.Layer(ctx, diffID, fp)
	}
	opts := image.Options{Auth: auth, Insecure: insecure, TempDir: q.deps.TempDir, Logger: q.log}
	inv, layers, err := image.ReadVerified(ctx, ref, analyzers, opts, known)
	if err != nil {
		return fail(fmt.Errorf("scanning %s: %w", ref, err))
	}
	imageID, err := q.recordHarborImage(ctx, h)
	if err != nil {
		return fail(err)
	}
	if err := st.SaveScan(ctx, []int64{imageID}, store.ScanRecord{Analyzer: fp, Artifact: inv.Artifact, Layers: layers}); err != nil {
		return fail(err)
	}
	rep, err := q.match(ctx, inv)
	if err != nil {
		return fail(err)
	}
	// The image's evaluation and Harbor's report are the same findings,
	// the tenant's policy applied.
	if rep.Vulnerabilities, err = q.tenantFindings(ctx, imageID, rep); err != nil {
		return fail(err)
	}
	var built time.Time
	if rep.DB != nil {
		built = rep.DB.Built
	}
	if err := q.apply(ctx, []store.Evaluation{{ImageID: imageID, Kind: "scan", DBBuilt: built, Findings: rep.Vulnerabilities}}); err != nil {
		return fail(err)
	}
	rep.Summarize()
	b, err := json.Marshal(rep)
	if err != nil {
		return fail(err)
	}
	if err := st.FinishHarborScan(ctx, tenantID, id, string(b)); err != nil {
		return err
	}
	q.log.Info("Harbor artifact scanned", "scan_id", id, "ref", ref, "packages", len(inv.Packages), "vulnerabilities", len(rep.Vulnerabilities))
	return nil
}

// recordHarborImage records the artifact of a Harbor scan request as an
// image of the tenant's registry for Harbor's registry host (created on the
// first scan), in its repository and with its tag, as a push webhook would:
// it is then listed, evaluated and re-evaluated like any registry image.
// No registry scan is queued for it; the Harbor scan is its scan.
func (q *Queue) recordHarborImage(ctx context.Context, h store.HarborScan) (int64, error) {
	st := q.deps.Store
	regID, err := st.HarborRegistry(ctx, h.TenantID, h.RegistryURL)
	if err != nil {
		return 0, fmt.Errorf("recording the image's registry: %w", err)
	}
	res, err := st.RecordEvents(ctx, []store.ImageEvent{{TenantID: h.TenantID, RegistryID: regID, Repository: h.Repository,
		Digest: h.Digest, Tag: h.Tag, Action: store.ActionPush, At: h.CreatedAt}})
	if err != nil {
		return 0, fmt.Errorf("recording the image: %w", err)
	}
	return res[0].ImageID, nil
}
