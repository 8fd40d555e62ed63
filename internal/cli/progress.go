package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/vigil-scan/vigil/internal/feeds"
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
	return p, tickLine(app, func() string {
		return fmt.Sprintf("reading layers %d/%d · %s · %d packages",
			p.LayersDone.Load(), p.LayersTotal.Load(), humanBytes(p.Bytes.Load()), p.Packages.Load())
	})
}

// tickLine redraws line() on standard error every progressInterval until
// the returned stop is called, which clears it. For terminals only.
func tickLine(app *App, line func() string) (stop func()) {
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
				fmt.Fprint(app.Err, "\r\x1b[K"+line())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// startFeedProgress shows `vigil db update`'s progress until stop is
// called: on a terminal one line (feed n/total, its name, bytes and
// records so far) redrawn on a ticker, with a line kept per finished feed;
// elsewhere a plain line per feed; nothing when quiet.
func startFeedProgress(app *App, quiet bool) (p *feeds.Progress, stop func()) {
	if quiet {
		return nil, func() {}
	}
	p = &feeds.Progress{}
	tty := app.errIsTTY()
	var mu sync.Mutex // a finished feed's line and the ticker's redraw do not interleave
	p.OnFeed = func(done, total int, fr feeds.FeedResult, bytes int64) {
		if fr.Status == feeds.StatusSkipped {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		clear := ""
		if tty {
			clear = "\r\x1b[K"
		}
		fmt.Fprintf(app.Err, "%svigil: feed %d/%d %s %s: %s, %d records\n", clear, done, total, fr.Name, fr.Status, humanBytes(bytes), fr.Records)
	}
	if !tty {
		return p, func() {}
	}
	return p, tickLine(app, func() string {
		mu.Lock()
		defer mu.Unlock()
		done, total := p.FeedsDone.Load(), p.FeedsTotal.Load()
		if done >= total {
			return fmt.Sprintf("writing the DB (%d feeds)", total)
		}
		// Rows: a record's advisory and each affected package it lists.
		return fmt.Sprintf("updating feeds %d/%d · %s · %s · %d rows",
			done+1, total, p.Current(), humanBytes(p.Bytes.Load()), p.Records.Load())
	})
}

// sayImageSource tells, unless quiet, where a bare reference was found
// when it was a local daemon's image rather than the registry's (the JSON
// says it as artifact.source).
func sayImageSource(app *App, quiet bool, ref, source string) {
	if quiet || !image.IsBareReference(ref) || source == "" || source == "registry" {
		return
	}
	fmt.Fprintf(app.Err, "vigil: %s: read from the local %s image store (--image-src remote reads the registry's)\n", ref, source)
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
