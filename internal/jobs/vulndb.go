package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// CurrentDB is the vulnerability DB a process serves and matches with. A
// refresh builds a new DB from the feeds next to the old one and swaps it
// in; a refresh that fails leaves the previous DB serving.
type CurrentDB struct {
	// Config locates the feeds (mirror, URLs) and the DB file the updater
	// writes (Config.DBPath; each refresh reuses its unchanged feeds).
	Config    config.Config
	UserAgent string
	Logger    *slog.Logger
	// Fetcher downloads the feeds (default: retries with backoff from 1 s).
	Fetcher *feeds.Fetcher
	// Shared, when set, is the database every process of the deployment
	// uses: a refresh publishes its build there, and the other processes
	// load the newest build from it instead of fetching the feeds.
	Shared *store.Store

	refreshMu sync.Mutex
	mu        sync.RWMutex
	db        *vulndb.DB
	matcher   *match.Matcher
	digest    string
	servePath string
	lastErr   error
	lastTry   time.Time
	lastSync  time.Time
}

// Load opens the DB file if one exists (a restart keeps serving the DB it
// had). It is not an error when there is none yet.
func (c *CurrentDB) Load() error {
	if _, err := os.Stat(c.Config.DBPath); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return c.install()
}

// install snapshots Config.DBPath into a serving file named by its digest
// (the updater later rewrites DBPath; the serving copy never changes while
// open) and swaps it in.
func (c *CurrentDB) install() error {
	digest, err := fileSHA256(c.Config.DBPath)
	if err != nil {
		return err
	}
	serve := filepath.Join(filepath.Dir(c.Config.DBPath), "serving-"+digest[:16]+".db")
	if _, err := os.Stat(serve); err != nil {
		if err := copyFile(c.Config.DBPath, serve); err != nil {
			return err
		}
	}
	db, err := vulndb.Open(serve)
	if err != nil {
		return err
	}
	c.mu.Lock()
	old, oldPath := c.db, c.servePath
	c.db, c.matcher, c.digest, c.servePath = db, match.New(db, match.Options{}), "sha256:"+digest, serve
	c.mu.Unlock()
	if old != nil {
		// Scans in flight finish on the old DB first (they hold the read lock).
		c.mu.Lock()
		old.Close()
		c.mu.Unlock()
		if oldPath != serve {
			os.Remove(oldPath)
		}
	}
	return nil
}

// Ready reports whether a DB is loaded.
func (c *CurrentDB) Ready() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.db != nil
}

// Info describes the loaded DB (zero when none).
type Info struct {
	Built   time.Time           `json:"built"`
	Digest  string              `json:"digest"`
	Size    int64               `json:"size"`
	Schema  int                 `json:"schema_version"`
	Sources []vulndb.SourceInfo `json:"sources"`
	// LastRefreshError is the last failed refresh ("" when it succeeded).
	LastRefreshError string     `json:"last_refresh_error,omitempty"`
	LastRefreshAt    *time.Time `json:"last_refresh_at,omitempty"`
	Path             string     `json:"-"`
}

// Info returns what is serving.
func (c *CurrentDB) Info() Info {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var in Info
	if c.lastErr != nil {
		in.LastRefreshError = c.lastErr.Error()
	}
	if !c.lastTry.IsZero() {
		t := c.lastTry
		in.LastRefreshAt = &t
	}
	if c.db == nil {
		return in
	}
	m := c.db.Metadata()
	in.Built, in.Schema, in.Sources, in.Digest, in.Path = m.Built, m.SchemaVersion, m.Sources, c.digest, c.servePath
	if fi, err := os.Stat(c.servePath); err == nil {
		in.Size = fi.Size()
	}
	return in
}

// ErrNoDB is returned by With before the first DB is built.
var ErrNoDB = errors.New("no vulnerability DB yet")

// With runs fn with the matcher and the DB's description; the DB is not
// swapped out while fn runs.
func (c *CurrentDB) With(fn func(m *match.Matcher, info *result.DBInfo) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.db == nil {
		return ErrNoDB
	}
	m := c.db.Metadata()
	return fn(c.matcher, &result.DBInfo{SchemaVersion: m.SchemaVersion, Built: m.Built})
}

// Refresh fetches the feeds into a new DB and swaps it in. It returns the
// (ecosystem, package) keys whose advisories changed (all of them on the
// first build: nil with first=true).
func (c *CurrentDB) Refresh(ctx context.Context) (changed []vulndb.PackageKey, first bool, err error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	defer func() {
		now := time.Now()
		c.mu.Lock()
		c.lastErr, c.lastTry = err, now
		c.mu.Unlock()
		c.shareOutcome(ctx, now, err)
	}()
	if err := os.MkdirAll(filepath.Dir(c.Config.DBPath), 0o755); err != nil {
		return nil, false, err
	}
	if _, err := c.syncLocked(ctx); err != nil && c.Logger != nil {
		c.Logger.Warn("the shared vulnerability DB cannot be loaded; refreshing from this process's copy", "err", err)
	}
	fetcher := c.Fetcher
	if fetcher == nil {
		fetcher = &feeds.Fetcher{UserAgent: c.UserAgent}
	}
	u := &feeds.Updater{Config: c.Config, Fetcher: fetcher, Logger: c.Logger}
	res, err := u.Update(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("refreshing the vulnerability DB: %w", err)
	}
	err = feedProblems(res)
	c.mu.RLock()
	old := c.db
	c.mu.RUnlock()
	if old != nil && err != nil && !updatedAny(res) {
		// Nothing new, and a feed broken: the build only differs from the
		// serving one by its warnings. The previous build keeps serving.
		return nil, false, err
	}
	digest, derr := fileSHA256(c.Config.DBPath)
	if derr != nil {
		return nil, false, derr
	}
	if old != nil && "sha256:"+digest == c.currentDigest() {
		return nil, false, err
	}
	if old != nil {
		fresh, oerr := vulndb.Open(c.Config.DBPath)
		if oerr != nil {
			return nil, false, oerr
		}
		c.mu.RLock()
		changed, derr = vulndb.Diff(ctx, c.db, fresh)
		c.mu.RUnlock()
		fresh.Close()
		if derr != nil {
			return nil, false, derr
		}
	}
	if ierr := c.install(); ierr != nil {
		return nil, false, ierr
	}
	if perr := c.publish(ctx); perr != nil {
		return changed, old == nil, errors.Join(err, perr)
	}
	return changed, old == nil, err
}

// feedProblems describes the feeds whose new data could not be used (the
// DB keeps their previous rows, or has none for them); nil when all were.
func feedProblems(res feeds.Result) error {
	var msgs []string
	for _, f := range res.Feeds {
		switch f.Status {
		case feeds.StatusFailed, feeds.StatusKept, feeds.StatusHeld:
			msgs = append(msgs, fmt.Sprintf("%s %s: %s", f.Name, f.Status, f.Warning))
		}
	}
	if msgs == nil {
		return nil
	}
	return fmt.Errorf("refreshing the vulnerability DB: %s", strings.Join(msgs, "; "))
}

func updatedAny(res feeds.Result) bool {
	for _, f := range res.Feeds {
		if f.Status == feeds.StatusUpdated {
			return true
		}
	}
	return false
}

func (c *CurrentDB) currentDigest() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.digest
}

// Close closes the DB.
func (c *CurrentDB) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return nil
	}
	err := c.db.Close()
	c.db = nil
	return err
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".serving-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
