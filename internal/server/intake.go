package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

// maxIntakeBatch bounds the deliveries committed together.
const maxIntakeBatch = 256

// intake coalesces concurrent webhook deliveries into one store
// transaction and one job insert (group commit): on SQLite every write goes
// through one connection, so a commit and River's insert statement per
// delivery would cap intake far below what one batch of them costs. The
// first delivery to find no batch in progress writes every delivery queued
// meanwhile, then the ones queued while it wrote, and so on; the others
// wait for their result. No goroutine outlives a request. A batch that
// fails (a store error, a panic) fails its deliveries only: they answer
// 5xx, the registries retry, and the next batch is written as usual.
type intake struct {
	st  *store.Store
	q   *jobs.Queue
	log *slog.Logger
	// fault, when set (tests), runs in each batch's transaction before it
	// commits: an error or a panic there is a failed batch.
	fault func() error

	mu      sync.Mutex
	writing bool
	queue   []*delivery
}

type delivery struct {
	evs  []store.ImageEvent
	res  []store.EventResult
	err  error
	done chan struct{}
}

// record stores a delivery's events (all or none) and queues the scans they
// call for; it returns what each event changed.
func (in *intake) record(ctx context.Context, evs []store.ImageEvent) ([]store.EventResult, error) {
	d := &delivery{evs: evs, done: make(chan struct{})}
	in.mu.Lock()
	in.queue = append(in.queue, d)
	if in.writing {
		in.mu.Unlock()
		select {
		case <-d.done:
			return d.res, d.err
		case <-ctx.Done():
			// The batch still commits it; the registry retries and the
			// retry is a duplicate.
			return nil, ctx.Err()
		}
	}
	in.writing = true
	for len(in.queue) > 0 {
		n := min(len(in.queue), maxIntakeBatch)
		batch := in.queue[:n:n]
		in.queue = in.queue[n:]
		in.mu.Unlock()
		in.write(batch)
		in.mu.Lock()
	}
	in.writing = false
	in.mu.Unlock()
	<-d.done
	return d.res, d.err
}

// errBatchPanicked is the error of the deliveries of a batch whose write
// panicked (logged with its stack).
var errBatchPanicked = errors.New("webhook batch write panicked")

// write commits one batch and wakes its deliveries. The batch serves
// several requests, so none of their cancellations stops it. It never
// panics and always wakes every delivery: a panic would leave the intake
// writing with no writer, and every later delivery waiting for nothing.
func (in *intake) write(batch []*delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			in.log.Error("writing webhook events", "err", fmt.Errorf("%w: %v", errBatchPanicked, p), "stack", string(debug.Stack()))
			for _, d := range batch {
				d.res, d.err = nil, errBatchPanicked
			}
		}
		for _, d := range batch {
			close(d.done)
		}
	}()
	evs := make([][]store.ImageEvent, len(batch))
	for i, d := range batch {
		evs[i] = d.evs
	}
	scans := func(res [][]store.EventResult) []jobs.ScanRequest {
		var out []jobs.ScanRequest
		for i, r := range res {
			for j, x := range r {
				if x.Scan {
					out = append(out, jobs.ScanRequest{TenantID: batch[i].evs[j].TenantID, Digest: x.Digest})
				}
			}
		}
		return out
	}
	// SQLite: the scan jobs commit with their events.
	inTx := in.q != nil && in.q.InTx()
	then := func(tx *store.Tx, res [][]store.EventResult) error {
		if in.fault != nil {
			if err := in.fault(); err != nil {
				return err
			}
		}
		if inTx {
			return in.q.EnqueueScans(ctx, tx, scans(res))
		}
		return nil
	}
	res, errs, err := in.st.RecordEventBatch(ctx, evs, then)
	if err == nil && in.q != nil && !inTx {
		if qerr := in.q.EnqueueScans(ctx, nil, scans(res)); qerr != nil {
			// The images stay pending; the scheduler re-enqueues them at
			// start. Report no scan queued.
			in.log.Error("enqueueing scans", "err", qerr)
			for _, r := range res {
				for j := range r {
					r[j].Scan = false
				}
			}
		}
	}
	for i, d := range batch {
		switch {
		case err != nil:
			d.err = err
		case errs[i] != nil:
			d.err = errs[i]
		default:
			d.res = res[i]
		}
	}
}
