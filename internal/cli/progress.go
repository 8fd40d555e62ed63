package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/vigil-scan/vigil/internal/image"
)

// progressInterval is how often a terminal's progress line is redrawn.
const progressInterval = 200 * time.Millisecond

// errIsTTY reports whether standard error is a terminal (progress lines
// go there, so standard output stays clean for reports).
func (app *App) errIsTTY() bool {
	f, ok := app.Err.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startProgress shows a scan's progress until stop is called: on a
// terminal one line redrawn from the counters on a ticker, elsewhere (CI
// logs) a plain line per layer, nothing when quiet. The scan only bumps
// atomic counters; all formatting happens here.
func startProgress(app *App, quiet bool) (p *image.Progress, stop func()) {
	if quiet {
		return nil, func() {}
	}
	p = &image.Progress{}
	if !app.errIsTTY() {
		var mu sync.Mutex
		p.OnLayer = func(index int, diffID string, bytes int64, packages int, cached bool) {
			how := "read"
			if cached {
				how = "from cache"
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(app.Err, "vigil: layer %d/%d %s (%s, %s): %s, %d packages\n",
				p.LayersDone.Load(), p.LayersTotal.Load(), how, shortID(diffID), fmt.Sprintf("index %d", index), humanBytes(bytes), packages)
		}
		return p, func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(app.Err, "\r\x1b[K")
				return
			case <-t.C:
				fmt.Fprintf(app.Err, "\r\x1b[Kreading layers %d/%d · %s · %d packages",
					p.LayersDone.Load(), p.LayersTotal.Load(), humanBytes(p.Bytes.Load()), p.Packages.Load())
			}
		}
	}()
	return p, func() { close(done); wg.Wait() }
}

func shortID(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// withTimeout bounds a scan by --timeout (0: no limit).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// timeoutError turns a scan stopped by --timeout into one clear sentence
// and exit 2; reports are written only after a complete scan, so none is
// left behind as if complete.
func timeoutError(ctx context.Context, d time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("scan stopped: --timeout %s reached; no report written", d)}
	}
	return &ExitError{Code: ExitScanFailed, Err: err}
}

// updateTimeout says that `vigil db update` stopped at --timeout; an
// update writes its new DB to a temporary file and renames it only when
// complete, so a stopped download never replaces the DB half-built.
func updateTimeout(ctx context.Context, d time.Duration, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("db update stopped: --timeout %s reached: %w", d, err)}
	}
	return err
}
