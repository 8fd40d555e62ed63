package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/scan"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// ScanArgs scans one image digest of a tenant: every repository of the
// tenant holding it gets the result. Unique while pending or running, so a
// burst of pushes and pulls of one digest is one scan.
type ScanArgs struct {
	TenantID int64  `json:"tenant_id" river:"unique"`
	Digest   string `json:"digest" river:"unique"`
	// Force re-reads images already scanned (analyzer upgrade).
	Force bool `json:"force,omitempty"`
}

func (ScanArgs) Kind() string { return "scan_image" }

// ReevaluateArgs re-matches stored images (no pull).
type ReevaluateArgs struct {
	ImageIDs []int64 `json:"image_ids"`
	// Reason is "advisories" (after a refresh) or "daily".
	Reason string `json:"reason"`
	// DB is the digest of the DB build that queued it: a worker serving an
	// older build loads the shared one first.
	DB string `json:"db,omitempty"`
}

func (ReevaluateArgs) Kind() string { return "reevaluate" }

// RefreshArgs rebuilds the vulnerability DB from the feeds.
type RefreshArgs struct{}

func (RefreshArgs) Kind() string { return "refresh_db" }

// DailyArgs is the periodic safety-net pass.
type DailyArgs struct{}

func (DailyArgs) Kind() string { return "daily_reevaluation" }

var uniquePending = &river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}}

// EnqueueScan queues a scan of the tenant's digest (a no-op when one is
// already pending or running).
func (q *Queue) EnqueueScan(ctx context.Context, tenantID int64, digest string, force bool) error {
	_, err := q.c.Insert(ctx, ScanArgs{TenantID: tenantID, Digest: digest, Force: force},
		&river.InsertOpts{MaxAttempts: q.opts.ScanAttempts, UniqueOpts: *uniquePending})
	return err
}

// ScanRequest is one digest to scan.
type ScanRequest struct {
	TenantID int64
	Digest   string
}

// EnqueueScans queues scans of many digests in one insert (the webhook
// intake's batch); digests already pending or running are no-ops, as for
// EnqueueScan. With tx (SQLite only, see InTx) the jobs are inserted in
// that store transaction.
func (q *Queue) EnqueueScans(ctx context.Context, tx *store.Tx, reqs []ScanRequest) error {
	params := make([]river.InsertManyParams, 0, len(reqs))
	seen := make(map[ScanRequest]bool, len(reqs))
	for _, r := range reqs {
		// One insert must not hold one unique job twice (River refuses it).
		if seen[r] {
			continue
		}
		seen[r] = true
		params = append(params, river.InsertManyParams{Args: ScanArgs{TenantID: r.TenantID, Digest: r.Digest},
			InsertOpts: &river.InsertOpts{MaxAttempts: q.opts.ScanAttempts, UniqueOpts: *uniquePending}})
	}
	if len(params) == 0 {
		return nil
	}
	var err error
	if tx != nil && q.sqliteC != nil {
		_, err = q.sqliteC.InsertManyTx(ctx, tx.SQL(), params)
	} else {
		_, err = q.c.InsertMany(ctx, params)
	}
	return err
}

// InTx reports whether jobs can be inserted in a store transaction
// (SQLite: the store and River share the writer connection).
func (q *Queue) InTx() bool { return q.sqliteC != nil }

// EnqueueRefresh queues a DB refresh (one at a time).
func (q *Queue) EnqueueRefresh(ctx context.Context) error {
	_, err := q.c.Insert(ctx, RefreshArgs{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: uniquePending.ByState}})
	return err
}

// EnqueueReevaluate queues re-evaluation of images in batches.
func (q *Queue) EnqueueReevaluate(ctx context.Context, ids []int64, reason string) error {
	const batch = 500
	db := ""
	if q.deps.DB != nil {
		db = q.deps.DB.Digest()
	}
	var params []river.InsertManyParams
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		params = append(params, river.InsertManyParams{Args: ReevaluateArgs{ImageIDs: part, Reason: reason, DB: db}, InsertOpts: &river.InsertOpts{MaxAttempts: 5}})
	}
	if len(params) == 0 {
		return nil
	}
	_, err := q.c.InsertMany(ctx, params)
	return err
}

// analyzers returns the layer analyzers and their fingerprint: stored
// layers and images record it, and an image inventoried by another
// fingerprint (an older Vigil, or one that walked layers by other rules)
// is read again.
func (q *Queue) analyzers() ([]inventory.Analyzer, string) {
	as := q.deps.Analyzers
	if as == nil {
		as = catalog.Packages()
	}
	names := make([]string, 0, len(as)+1)
	// The walk's own rules (whiteouts, replaced directories, links) change
	// what a stored layer result holds as much as an analyzer does.
	names = append(names, "walk@"+strconv.Itoa(image.WalkFormat))
	for _, a := range as {
		names = append(names, a.Name()+"@"+strconv.Itoa(a.Version()))
	}
	sort.Strings(names)
	return as, strings.Join(names, ",")
}

type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	q *Queue
}

func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	err := w.q.scan(ctx, job.Args, job.Attempt >= job.MaxAttempts)
	if w.q.deps.OnScanned != nil {
		w.q.deps.OnScanned(job.Args.TenantID, job.Args.Digest, err)
	}
	return err
}

// scan reads the digest once (through the layer store: known layers are not
// downloaded) and stores and evaluates it for every image row with it. Rows
// added while it ran (a push to another repository) are picked up by the
// loop, since the unique job absorbed their enqueue.
func (q *Queue) scan(ctx context.Context, a ScanArgs, final bool) error {
	st := q.deps.Store
	analyzers, fp := q.analyzers()
	for round := 0; round < 3; round++ {
		targets, err := st.ScanTargets(ctx, a.TenantID, a.Digest, a.Force && round == 0)
		if err != nil {
			return err
		}
		if len(targets) == 0 {
			return nil
		}
		ids := make([]int64, len(targets))
		for i, t := range targets {
			ids[i] = t.ImageID
		}
		t := targets[0]
		known := func(ctx context.Context, diffID string) (*inventory.LayerResult, error) {
			return st.Layer(ctx, diffID, fp)
		}
		opts := image.Options{Username: t.Creds.Username, Password: t.Creds.Password, Insecure: t.Creds.Insecure, TempDir: q.deps.TempDir, Logger: q.log}
		inv, layers, err := image.ReadVerified(ctx, t.Ref(), analyzers, opts, known)
		if err != nil {
			if serr := st.SetScanError(context.WithoutCancel(ctx), ids, err, final); serr != nil {
				q.log.Error("recording scan error", "err", serr)
			}
			return fmt.Errorf("scanning %s: %w", t.Ref(), err)
		}
		if err := st.SaveScan(ctx, ids, store.ScanRecord{Analyzer: fp, Artifact: inv.Artifact, Layers: layers}); err != nil {
			return err
		}
		if err := q.evaluate(ctx, ids, inv, "scan"); err != nil {
			return err
		}
		q.log.Info("image scanned", "digest", a.Digest, "images", len(ids), "packages", len(inv.Packages))
	}
	return nil
}

// evaluate matches an inventory and records the result on each image.
func (q *Queue) evaluate(ctx context.Context, ids []int64, inv *inventory.Inventory, kind string) error {
	evs, err := q.evaluations(ctx, ids, inv, kind)
	if err != nil {
		return err
	}
	return q.apply(ctx, evs)
}

// apply records evaluations and queues the outbound notifications of the
// findings they opened (docs/server.md, POST /api/v1/notifications). The
// evaluations are committed by then: a failed notification insert is
// logged, not retried through the job (a retry opens nothing new).
func (q *Queue) apply(ctx context.Context, evs []store.Evaluation) error {
	outs, err := q.deps.Store.ApplyEvaluations(ctx, evs)
	if err != nil {
		return err
	}
	for i, o := range outs {
		if err := q.NotifyOpened(ctx, evs[i].ImageID, o.Opened); err != nil {
			q.log.Error("queueing notifications of new findings", "image_id", evs[i].ImageID, "err", err)
		}
	}
	return nil
}

// evaluations matches an inventory once and returns each image's result
// (its tenant's policy applied).
func (q *Queue) evaluations(ctx context.Context, ids []int64, inv *inventory.Inventory, kind string) ([]store.Evaluation, error) {
	rep, err := q.match(ctx, inv)
	if err != nil {
		return nil, err
	}
	var built time.Time
	if rep.DB != nil {
		built = rep.DB.Built
	}
	out := make([]store.Evaluation, 0, len(ids))
	for _, id := range ids {
		findings, err := q.tenantFindings(ctx, id, rep)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Evaluation{ImageID: id, Kind: kind, DBBuilt: built, Findings: findings})
	}
	return out, nil
}

// match evaluates an inventory with the newest vulnerability DB: every job
// that matches (registry scans, re-evaluations, Harbor scans) goes through it.
func (q *Queue) match(ctx context.Context, inv *inventory.Inventory) (*result.Report, error) {
	if err := q.deps.DB.Fresh(ctx); err != nil {
		q.log.Warn("checking the shared vulnerability DB; matching with the one loaded", "err", err)
	}
	var rep *result.Report
	err := q.deps.DB.With(func(m *match.Matcher, info *result.DBInfo) error {
		var err error
		rep, err = scan.Evaluate(ctx, inv, scan.Options{Matcher: m, DB: info, ToolVersion: q.deps.ToolVersion})
		return err
	})
	return rep, err
}

type reevaluateWorker struct {
	river.WorkerDefaults[ReevaluateArgs]
	q *Queue
}

func (w *reevaluateWorker) Work(ctx context.Context, job *river.Job[ReevaluateArgs]) error {
	if db := job.Args.DB; db != "" && db != w.q.deps.DB.Digest() {
		// Another process refreshed: match with its build, not ours.
		if _, err := w.q.deps.DB.Sync(ctx); err != nil {
			return err
		}
	}
	_, err := w.q.Reevaluate(ctx, job.Args.ImageIDs, job.Args.Reason)
	return err
}

// reevaluateBatch is how many images' results one transaction records.
const reevaluateBatch = 32

// Reevaluate re-matches stored images from their stored layers, without
// any registry access, and records the results reevaluateBatch images per
// transaction. Images inventoried by another analyzer version are queued
// for a fresh scan instead. It returns how many were evaluated.
func (q *Queue) Reevaluate(ctx context.Context, ids []int64, reason string) (int, error) {
	analyzers, fp := q.analyzers()
	cache := newLayerLRU(4096)
	n := 0
	var pending []store.Evaluation
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := q.apply(ctx, pending); err != nil {
			return err
		}
		n += len(pending)
		pending = pending[:0]
		return nil
	}
	for _, id := range ids {
		img, err := q.deps.Store.LoadImage(ctx, id, cache)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNoInventory) {
			// Gone, or known only from CI publishes: nothing to match again
			// (one such image must not fail the whole batch).
			continue
		}
		if err != nil {
			return n, err
		}
		if img.Analyzer != fp {
			if err := q.EnqueueScan(ctx, img.TenantID, img.Artifact.Digest, true); err != nil {
				return n, err
			}
			continue
		}
		inv := image.Assemble(img.Artifact, img.Layers, analyzers)
		evs, err := q.evaluations(ctx, []int64{id}, inv, reason)
		if err != nil {
			return n, err
		}
		pending = append(pending, evs...)
		if len(pending) >= reevaluateBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

type refreshWorker struct {
	river.WorkerDefaults[RefreshArgs]
	q *Queue
}

func (w *refreshWorker) Work(ctx context.Context, job *river.Job[RefreshArgs]) error {
	return w.q.Refresh(ctx)
}

// Refresh rebuilds the DB and queues the re-evaluation of the images whose
// packages' advisories changed, found through the store's index.
// A refresh with broken feeds fails the job (retried, counted in the
// metrics) after what it did install is put to use: the previous data of
// those feeds keeps serving.
func (q *Queue) Refresh(ctx context.Context) error {
	changed, first, err := q.deps.DB.Refresh(ctx)
	if err != nil && !q.deps.DB.Ready() {
		return err
	}
	if err != nil {
		q.log.Warn("DB refresh incomplete; the previous data keeps serving", "err", err)
	}
	if first {
		// Nothing was matched against any DB before: scan what waited.
		if perr := q.EnqueuePending(ctx); perr != nil {
			return perr
		}
		return err
	}
	if len(changed) > 0 {
		ids, ierr := q.deps.Store.ImagesWithPackages(ctx, indexKeys(changed))
		if ierr != nil {
			return ierr
		}
		q.log.Info("advisories changed", "packages", len(changed), "images", len(ids))
		if ierr := q.EnqueueReevaluate(ctx, ids, "advisories"); ierr != nil {
			return ierr
		}
	}
	return err
}

func indexKeys(ks []vulndb.PackageKey) [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	for _, k := range ks {
		e, n := store.IndexKey(k.Ecosystem, k.Package)
		key := [2]string{e, n}
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	return out
}

type dailyWorker struct {
	river.WorkerDefaults[DailyArgs]
	q *Queue
}

func (w *dailyWorker) Work(ctx context.Context, job *river.Job[DailyArgs]) error {
	now := time.Now()
	ids, err := w.q.deps.Store.ImagesForDaily(ctx, now.Add(-w.q.opts.Windows.Pushed), now.Add(-w.q.opts.Windows.Pulled))
	if err != nil {
		return err
	}
	return w.q.EnqueueReevaluate(ctx, ids, "daily")
}

// layerLRU is a small cache of decoded layers for one re-evaluation batch.
type layerLRU struct {
	mu    sync.Mutex
	max   int
	items map[int64]*inventory.LayerResult
	order []int64
}

func newLayerLRU(n int) *layerLRU {
	return &layerLRU{max: n, items: map[int64]*inventory.LayerResult{}}
}

func (c *layerLRU) Get(id int64) (*inventory.LayerResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.items[id]
	return l, ok
}

func (c *layerLRU) Put(id int64, l *inventory.LayerResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[id] = l
	c.order = append(c.order, id)
}

// DefaultAnalyzers returns the default layer analyzers and their
// fingerprint (load tests seed images with it).
func DefaultAnalyzers() ([]inventory.Analyzer, string) {
	return (&Queue{}).analyzers()
}
