package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/urlcred"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// Status is what an update did with one feed.
type Status string

// Feed outcomes of an update.
const (
	StatusUpdated   Status = "updated"
	StatusUnchanged Status = "unchanged"     // 304 or same digest: previous rows copied
	StatusKept      Status = "kept-previous" // fetch or parse failed: previous rows copied
	StatusHeld      Status = "held-back"     // record count fell too far: previous rows copied
	StatusCarried   Status = "carried-over"  // not selected this time: previous rows copied
	StatusSkipped   Status = "skipped"       // absent from the mirror or upstream
	StatusFailed    Status = "failed"        // failed with no previous data to keep
)

// FeedResult is one feed's outcome.
type FeedResult struct {
	Name    string
	Status  Status
	Records int
	Warning string
}

// Result is what Update did.
type Result struct {
	Metadata vulndb.Metadata
	Feeds    []FeedResult
}

// Failed reports whether any feed failed with no data kept.
func (r Result) Failed() bool {
	return slices.ContainsFunc(r.Feeds, func(f FeedResult) bool { return f.Status == StatusFailed })
}

// Rejected reports whether new data of any feed was refused (a broken or
// truncated download, a parse error, a count that fell too far) and its
// previous rows kept: the DB is usable but not current.
func (r Result) Rejected() bool {
	return slices.ContainsFunc(r.Feeds, func(f FeedResult) bool { return f.Status == StatusKept || f.Status == StatusHeld })
}

// Updater builds a new DB from the feeds of a configuration.
type Updater struct {
	Config  config.Config
	Fetcher *Fetcher
	Logger  *slog.Logger
	// AcceptShrink imports feeds whose record count fell by more than
	// Config.ShrinkLimit since the previous import (they are held back
	// otherwise).
	AcceptShrink bool
	// Now defaults to time.Now.
	Now func() time.Time
	// Progress, when set, counts feeds, bytes and records as they arrive.
	Progress *Progress
}

// Update fetches the selected feeds (names or "prefix" as in Select; all
// default feeds when empty) into a new DB that atomically replaces the one
// at Config.DBPath. Feeds that are unchanged, fail, or are not selected
// keep the previous DB's rows. The error is for problems that leave the
// old DB in place (cancellation, unknown feed names, disk errors).
func (u *Updater) Update(ctx context.Context, names []string) (Result, error) {
	var res Result
	if err := u.Config.Validate(); err != nil {
		return res, err
	}
	sel, unknown := Select(Registry(u.Config), names)
	if len(unknown) > 0 {
		return res, fmt.Errorf("unknown feed %q (see docs/configuration.md for feed names)", unknown)
	}
	if removed, err := u.fetcher().RemoveStaleDownloads(); err == nil && len(removed) > 0 {
		u.logger().Info("removed downloads left by interrupted runs", "files", removed)
	}
	prevPath, prev := u.previous()
	b, err := vulndb.Create(ctx, u.Config.DBPath)
	if err != nil {
		return res, vulndb.ExplainDiskFull(err, filepath.Dir(u.Config.DBPath))
	}
	defer b.Abort()
	if u.Progress != nil {
		// The fetcher counts the bytes; an Updater with Progress must not
		// share its Fetcher with another running update.
		if u.Fetcher == nil {
			u.Fetcher = &Fetcher{}
		}
		u.Progress.FeedsTotal.Store(int64(len(sel)))
		u.fetcher().progress = u.Progress
		defer func() { u.fetcher().progress = nil }()
	}
	for _, f := range sel {
		u.Progress.startFeed(f.Name)
		fr, err := u.updateFeed(ctx, b, f, prevPath, prev)
		if err != nil {
			return res, vulndb.ExplainDiskFull(err, filepath.Dir(u.Config.DBPath))
		}
		u.Progress.feedDone(fr)
		u.logger().Info("feed", "name", fr.Name, "status", fr.Status, "records", fr.Records, "warning", fr.Warning)
		res.Feeds = append(res.Feeds, fr)
	}
	for _, s := range prev.Sources {
		if containsFeed(sel, s.Name) {
			continue
		}
		if _, err := b.CopyFeed(ctx, prevPath, s.Name); err != nil {
			return res, err
		}
		s.URL, s.Warning = urlcred.Redact(s.URL), urlcred.RedactText(s.Warning)
		b.AddSource(s)
		res.Feeds = append(res.Feeds, FeedResult{Name: s.Name, Status: StatusCarried, Records: s.Records, Warning: s.Warning})
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if !fetchedAny(res.Feeds) {
		// Committing would replace a good DB by one whose feeds all say
		// "failed", or write an empty one where there was none.
		return res, fmt.Errorf("%w: no feed could be fetched; %s", ErrNothingFetched, u.leftAs())
	}
	if err := b.Commit(); err != nil {
		return res, vulndb.ExplainDiskFull(err, filepath.Dir(u.Config.DBPath))
	}
	db, err := vulndb.Open(u.Config.DBPath)
	if err != nil {
		return res, err
	}
	res.Metadata = db.Metadata()
	db.Close()
	return res, nil
}

// ErrNothingFetched is returned when every selected feed failed or was
// absent: no DB is written and the previous one, if any, stays as it was.
var ErrNothingFetched = errors.New("every feed failed")

// fetchedAny reports whether at least one selected feed was fetched
// (imported, or confirmed unchanged).
func fetchedAny(fs []FeedResult) bool {
	return slices.ContainsFunc(fs, func(f FeedResult) bool {
		return f.Status == StatusUpdated || f.Status == StatusUnchanged || f.Status == StatusHeld
	})
}

func (u *Updater) leftAs() string {
	if _, prev := u.previous(); prev.SchemaVersion != 0 {
		return "the DB at " + u.Config.DBPath + " was left as it was"
	}
	return "no DB was written to " + u.Config.DBPath
}

// previous returns the current DB's path and metadata, or "" when there is
// no usable DB to copy from.
func (u *Updater) previous() (string, vulndb.Metadata) {
	db, err := vulndb.Open(u.Config.DBPath)
	if err != nil {
		u.logger().Debug("no previous DB to reuse", "err", err)
		return "", vulndb.Metadata{}
	}
	defer db.Close()
	return u.Config.DBPath, db.Metadata()
}

func (u *Updater) logger() *slog.Logger {
	if u.Logger != nil {
		return u.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (u *Updater) now() time.Time {
	if u.Now != nil {
		return u.Now().UTC()
	}
	return time.Now().UTC()
}

func (u *Updater) fetcher() *Fetcher {
	if u.Fetcher != nil {
		return u.Fetcher
	}
	return &Fetcher{}
}

// updateFeed imports one feed. Only a cancelled context or a DB error is
// returned as an error; feed problems become the result's status.
func (u *Updater) updateFeed(ctx context.Context, b *vulndb.Builder, f Feed, prevPath string, prevMeta vulndb.Metadata) (FeedResult, error) {
	prev, hadPrev := prevMeta.Source(f.Name)
	canCopy := prevPath != "" && hadPrev
	// Unchanged feed bytes only mean unchanged rows when the same parsers
	// read them; otherwise the feed is fetched and parsed again (a failure
	// still falls back to the old rows).
	reuse := canCopy && prev.Parser == parserVersion
	var info vulndb.SourceInfo
	var err error
	if f.Pages != nil {
		info, err = u.fetchPaged(ctx, b, f)
	} else {
		info, err = u.fetchOne(ctx, b, f, prev, reuse)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return FeedResult{}, ctxErr
	}
	if vulndb.IsDiskFull(err) {
		// Every later feed would fail the same way: stop, keep the old DB.
		return FeedResult{}, fmt.Errorf("feed %s: %w", f.Name, err)
	}
	if err == nil && canCopy && !u.AcceptShrink {
		err = u.checkShrink(prev, info)
	}
	fr := FeedResult{Name: f.Name}
	switch {
	case errors.Is(err, errUnchanged):
		if _, err := b.CopyFeed(ctx, prevPath, f.Name); err != nil {
			return fr, err
		}
		prev.Fetched = info.Fetched
		if info.ETag != "" || info.LastModified != "" {
			prev.ETag, prev.LastModified = info.ETag, info.LastModified
		}
		if strings.HasPrefix(prev.Warning, failedPrefix) {
			prev.Warning = ""
		}
		info, fr.Status = prev, StatusUnchanged
	case errors.Is(err, ErrNotFound):
		info = vulndb.SourceInfo{Name: f.Name, URL: info.URL, Fetched: u.now(), Warning: u.absentNote()}
		fr.Status = StatusSkipped
	case err != nil:
		if err := b.DropFeed(ctx, f.Name); err != nil {
			return fr, err
		}
		if canCopy {
			if _, err := b.CopyFeed(ctx, prevPath, f.Name); err != nil {
				return fr, err
			}
			url := info.URL
			info = prev
			info.Warning = fmt.Sprintf(failedPrefix+", kept data fetched %s: %v", prev.Fetched.Format(time.RFC3339), err)
			if url != "" {
				info.URL = url
			}
			fr.Status = StatusKept
			if errors.Is(err, errShrunk) {
				fr.Status = StatusHeld
			}
		} else {
			info = vulndb.SourceInfo{Name: f.Name, URL: info.URL, Fetched: u.now(), Warning: failedPrefix + ": " + err.Error()}
			fr.Status = StatusFailed
		}
	default:
		info.Parser = parserVersion
		fr.Status = StatusUpdated
	}
	// Credentials in feed or mirror URLs never reach the DB, the log or
	// the summary.
	info.URL, info.Warning = urlcred.Redact(info.URL), urlcred.RedactText(info.Warning)
	b.AddSource(info)
	fr.Records, fr.Warning = info.Records, info.Warning
	return fr, nil
}

// errShrunk marks a feed whose record count fell by more than the limit.
var errShrunk = errors.New("record count fell")

// checkShrink compares a new import's record count with the previous one.
// A cut download that still parses (a YAML or DSA list ending on a line
// boundary) shows up here: the newest advisories are all present, the
// older half is missing.
func (u *Updater) checkShrink(prev, cur vulndb.SourceInfo) error {
	if prev.Records <= 0 || cur.Records >= prev.Records {
		return nil
	}
	limit := u.Config.ShrinkLimit()
	drop := float64(prev.Records-cur.Records) / float64(prev.Records)
	if drop <= limit {
		return nil
	}
	return fmt.Errorf("%w from %d to %d (-%.1f%%, over the %s limit): the feed may be truncated; "+
		"run `vigil db update --accept-shrink` if the drop is real", errShrunk, prev.Records, cur.Records, drop*100, config.Fraction(limit))
}

func (u *Updater) absentNote() string {
	if u.Config.Mirror != "" {
		return "not in mirror"
	}
	return "not published upstream"
}

// parserVersion is bumped whenever a feed parser's output for the same
// input changes (a new field, a fixed bug), so `vigil db update` re-imports
// feeds whose bytes did not change. A variable so tests can bump it.
var parserVersion = 2

// failedPrefix starts the warning of a feed whose update failed.
const failedPrefix = "update failed"

// errUnchanged means the previous DB's rows are current.
var errUnchanged = errors.New("unchanged")

// fetchOne fetches and imports a single-document feed. With reuse (the
// previous DB holds this feed's rows from the same parsers), a 304 or an
// unchanged digest returns errUnchanged instead of importing again.
func (u *Updater) fetchOne(ctx context.Context, b *vulndb.Builder, f Feed, prev vulndb.SourceInfo, reuse bool) (vulndb.SourceInfo, error) {
	info := vulndb.SourceInfo{Name: f.Name}
	var doc *Fetched
	var err error
	for i, loc := range f.URLs {
		info.URL = loc
		var v Validators
		if reuse && prev.URL == urlcred.Redact(loc) {
			v = Validators{ETag: prev.ETag, LastModified: prev.LastModified}
		}
		doc, err = u.fetcher().Fetch(ctx, loc, v, nil)
		if errors.Is(err, ErrNotFound) && i < len(f.URLs)-1 {
			continue
		}
		break
	}
	if err != nil {
		return info, err
	}
	defer doc.Close()
	info.Fetched = u.now()
	info.ETag, info.LastModified = doc.ETag, doc.LastModified
	if doc.NotModified && !reuse {
		// Only a conditional request may be answered 304, and there is no
		// previous data to fall back on.
		return info, fmt.Errorf("%s: HTTP 304 Not Modified to an unconditional request", doc.URL)
	}
	if doc.NotModified || (reuse && prev.Digest != "" && doc.Digest == prev.Digest) {
		return info, errUnchanged
	}
	info.Digest = doc.Digest
	n, warning, err := f.Parse(ctx, Document{Body: doc.File, Size: doc.Size, URL: doc.URL}, u.Progress.sink(b.Feed(f.Name)))
	if err != nil {
		return info, fmt.Errorf("importing %s: %w", doc.URL, err)
	}
	info.Records, info.Warning = n, warning
	return info, nil
}

// fetchPaged imports a paged feed; its digest covers every page.
func (u *Updater) fetchPaged(ctx context.Context, b *vulndb.Builder, f Feed) (vulndb.SourceInfo, error) {
	p := f.Pages
	info := vulndb.SourceInfo{Name: f.Name, URL: p.URL(0, 0), Fetched: u.now()}
	h := sha256.New()
	sink := u.Progress.sink(b.Feed(f.Name))
	for n := 0; ; n++ {
		start := n * p.Size
		if n > 0 && p.Delay > 0 {
			select {
			case <-ctx.Done():
				return info, ctx.Err()
			case <-time.After(p.Delay):
			}
		}
		doc, err := u.fetcher().Fetch(ctx, p.URL(n, start), Validators{}, p.Header)
		if errors.Is(err, ErrNotFound) && n > 0 {
			break // a mirror ends where its pages end
		}
		if err != nil {
			return info, err
		}
		io.WriteString(h, doc.Digest)
		recs, total, err := p.Parse(ctx, doc.File, sink)
		doc.Close()
		if err != nil {
			return info, fmt.Errorf("importing page %d: %w", n, err)
		}
		info.Records += recs
		if recs == 0 || start+recs >= total {
			break
		}
	}
	info.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return info, nil
}
