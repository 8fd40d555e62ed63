// Package jobs owns the service's background work, run through River
// (riverqueue/river) on the store's database, SQLite or PostgreSQL: scanning
// an image digest, re-evaluating stored images after a DB refresh, the
// refresh itself, the periodic (daily) re-evaluation pass and outbound
// notifications. Jobs survive a crash (they are rows, rescued when their
// worker dies), scans are unique per digest while pending or running, and
// failed attempts are retried with exponential backoff, their errors kept
// on the image for the API.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/store"
)

// Options configure the queue.
type Options struct {
	// Work runs workers in this process; false makes an insert-only
	// client (API replicas).
	Work bool
	// Concurrency is the number of jobs worked at once (default 4).
	Concurrency int
	// Daily is the interval of the periodic re-evaluation pass (default 24 h;
	// negative disables it).
	Daily time.Duration
	// Refresh is the interval of the feed refresh (default 6 h; negative
	// disables it).
	Refresh time.Duration
	// Windows select the images the daily pass re-evaluates.
	Windows Windows
	// RetryBase is the first retry delay, doubled each attempt (default 5 s).
	RetryBase time.Duration
	// ScanAttempts is how often a scan is tried before the image is marked
	// failed (default 5).
	ScanAttempts int
	// JobTimeout bounds one job (default 30 min); a job whose process died
	// is rescued and retried RescueAfter later (default JobTimeout + 1 min).
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// PollInterval is how often idle workers look for jobs (default 500 ms).
	PollInterval time.Duration
}

// Windows are the daily pass's selection: images pushed or pulled within
// the windows, or running in a cluster.
type Windows struct {
	Pushed time.Duration // default 90 days
	Pulled time.Duration // default 30 days
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Daily == 0 {
		o.Daily = 24 * time.Hour
	}
	if o.Refresh == 0 {
		o.Refresh = 6 * time.Hour
	}
	if o.Windows.Pushed <= 0 {
		o.Windows.Pushed = 90 * 24 * time.Hour
	}
	if o.Windows.Pulled <= 0 {
		o.Windows.Pulled = 30 * 24 * time.Hour
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 5 * time.Second
	}
	if o.ScanAttempts <= 0 {
		o.ScanAttempts = 5
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 30 * time.Minute
	}
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = o.JobTimeout + time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
}

// Deps are what the workers use.
type Deps struct {
	Store       *store.Store
	DB          *CurrentDB
	Logger      *slog.Logger
	ToolVersion string
	// Analyzers run over each layer (default catalog.Packages()).
	Analyzers []inventory.Analyzer
	// TempDir for big files read from layers.
	TempDir string
	// OnScanned is called after an image digest was scanned and evaluated
	// (metrics, tests); may be nil.
	OnScanned func(tenantID int64, digest string, err error)
}

// client is what the queue needs of a river.Client, whatever its driver's
// transaction type.
type client interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Queue is the job queue of one process.
type Queue struct {
	c client
	// sqliteC is c on SQLite, whose transactions are the store's (jobs
	// can be inserted in a store transaction); nil on PostgreSQL.
	sqliteC *river.Client[*sql.Tx]
	deps    Deps
	opts    Options
	log     *slog.Logger

	mmu     sync.Mutex
	seconds map[string]float64
	counts  map[string]int64
}

// New migrates River's tables and builds the client.
func New(ctx context.Context, deps Deps, opts Options) (*Queue, error) {
	opts.defaults()
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{deps: deps, opts: opts, log: deps.Logger}
	var err error
	if deps.Store.Postgres() {
		q.c, err = newClient[pgx.Tx](ctx, riverpgxv5.New(deps.Store.Pool()), q)
	} else {
		q.sqliteC, err = newClient[*sql.Tx](ctx, riversqlite.New(deps.Store.WriteDB()), q)
		q.c = q.sqliteC
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

func newClient[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], q *Queue) (*river.Client[TTx], error) {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("migrating the job queue: %w", err)
	}
	cfg := &river.Config{
		Logger:               q.log.With("component", "river"),
		JobTimeout:           q.opts.JobTimeout,
		RescueStuckJobsAfter: q.opts.RescueAfter,
		FetchPollInterval:    q.opts.PollInterval,
		FetchCooldown:        min(q.opts.PollInterval, 100*time.Millisecond),
		RetryPolicy:          retryPolicy{base: q.opts.RetryBase},
	}
	if q.opts.Work {
		workers := river.NewWorkers()
		river.AddWorker(workers, &scanWorker{q: q})
		river.AddWorker(workers, &reevaluateWorker{q: q})
		river.AddWorker(workers, &refreshWorker{q: q})
		river.AddWorker(workers, &dailyWorker{q: q})
		river.AddWorker(workers, &notifyWorker{q: q})
		river.AddWorker(workers, &harborScanWorker{q: q})
		cfg.Workers = workers
		cfg.Middleware = []rivertype.Middleware{&timing{q: q}}
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.opts.Concurrency}}
		if q.opts.Daily > 0 {
			cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(q.opts.Daily),
				func() (river.JobArgs, *river.InsertOpts) { return DailyArgs{}, nil },
				&river.PeriodicJobOpts{ID: "daily-reevaluation"})}
		}
		if q.opts.Refresh > 0 {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(q.opts.Refresh),
				func() (river.JobArgs, *river.InsertOpts) {
					return RefreshArgs{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: uniquePending.ByState}}
				},
				&river.PeriodicJobOpts{ID: "feed-refresh"}))
		}
	}
	return river.NewClient(driver, cfg)
}

// retryPolicy is exponential backoff from base, capped at an hour.
type retryPolicy struct{ base time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := time.Duration(float64(p.base) * math.Pow(2, float64(max(job.Attempt-1, 0))))
	return time.Now().Add(min(d, time.Hour))
}

// Start starts working (a no-op for an insert-only queue) and re-enqueues
// the images left pending (an event recorded just before a crash).
func (q *Queue) Start(ctx context.Context) error {
	if !q.opts.Work {
		return nil
	}
	if err := q.c.Start(ctx); err != nil {
		return err
	}
	return q.EnqueuePending(ctx)
}

// Stop finishes the jobs in flight (until ctx ends) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.opts.Work {
		return nil
	}
	return q.c.Stop(ctx)
}

// EnqueuePending enqueues a scan for every pending image (unique jobs make
// this harmless for those already queued).
func (q *Queue) EnqueuePending(ctx context.Context) error {
	keys, err := q.deps.Store.PendingScans(ctx, 100000)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := q.EnqueueScan(ctx, k.TenantID, k.Digest, false); err != nil {
			return err
		}
	}
	return nil
}

// Stats are the queue's depth by state and the failed jobs.
type Stats struct {
	Available, Running, Retryable, Scheduled int
}

// Stats counts the jobs by state (at most 10,000 per state are counted).
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	for _, st := range []struct {
		state rivertype.JobState
		n     *int
	}{
		{rivertype.JobStateAvailable, &s.Available}, {rivertype.JobStateRunning, &s.Running},
		{rivertype.JobStateRetryable, &s.Retryable}, {rivertype.JobStateScheduled, &s.Scheduled},
	} {
		res, err := q.c.JobList(ctx, river.NewJobListParams().States(st.state).First(10000))
		if err != nil {
			return s, err
		}
		*st.n = len(res.Jobs)
	}
	return s, nil
}

// FailedJob is a job attempt that failed, for the API.
type FailedJob struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	State    string    `json:"state"`
	Attempt  int       `json:"attempt"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
	Args     string    `json:"args"`
	TenantID int64     `json:"-"`
}

// Failures lists the most recent jobs with errors (retryable or discarded).
func (q *Queue) Failures(ctx context.Context, limit int) ([]FailedJob, error) {
	res, err := q.c.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateRetryable, rivertype.JobStateDiscarded).First(limit))
	if err != nil {
		return nil, err
	}
	out := []FailedJob{}
	for _, j := range res.Jobs {
		f := FailedJob{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, Args: string(j.EncodedArgs)}
		if n := len(j.Errors); n > 0 {
			f.Error, f.At = j.Errors[n-1].Error, j.Errors[n-1].At
		}
		out = append(out, f)
	}
	return out, nil
}

// JobMetrics are cumulative job durations and outcomes by kind.
type JobMetrics struct {
	Seconds map[string]float64
	Count   map[string]int64
}

// JobMetrics returns a snapshot of the job counters.
func (q *Queue) JobMetrics() JobMetrics {
	q.mmu.Lock()
	defer q.mmu.Unlock()
	out := JobMetrics{Seconds: map[string]float64{}, Count: map[string]int64{}}
	for k, v := range q.seconds {
		out.Seconds[k] = v
	}
	for k, v := range q.counts {
		out.Count[k] = v
	}
	return out
}

func (q *Queue) observe(kind string, d time.Duration, err error) {
	q.mmu.Lock()
	defer q.mmu.Unlock()
	if q.seconds == nil {
		q.seconds, q.counts = map[string]float64{}, map[string]int64{}
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	q.seconds[fmt.Sprintf("kind=%q", kind)] += d.Seconds()
	q.counts[fmt.Sprintf("kind=%q,outcome=%q", kind, outcome)]++
}

// timing records each job's duration and outcome for /metrics.
type timing struct {
	river.MiddlewareDefaults
	q *Queue
}

func (t *timing) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	t.q.observe(job.Kind, time.Since(start), err)
	return err
}
