package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-scan/vigil/internal/store"
)

// sharedKeep is how many published builds the shared store keeps: the
// newest, and the one before for processes still loading it.
const sharedKeep = 2

// recordTimeout bounds the writes that record a failure after the job's
// own context has ended.
const recordTimeout = 30 * time.Second

// freshEvery bounds how often a job asks the shared store for a newer
// build before matching.
const freshEvery = 2 * time.Second

// publish stores the serving build in the shared store, for the other
// processes of the deployment.
func (c *CurrentDB) publish(ctx context.Context) error {
	if c.Shared == nil {
		return nil
	}
	c.mu.RLock()
	path, digest := c.servePath, c.digest
	var built time.Time
	if c.db != nil {
		built = c.db.Metadata().Built
	}
	c.mu.RUnlock()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := c.Shared.PublishVulnDB(ctx, f, digest, built, fi.Size(), sharedKeep); err != nil {
		return fmt.Errorf("publishing the vulnerability DB to the shared database: %w", err)
	}
	return nil
}

// Sync loads the newest build another process published, when it is newer
// than the one serving here: downloaded next to Config.DBPath, verified
// against its digest, then swapped in like a refresh (without touching the
// feeds). It reports whether it installed one.
func (c *CurrentDB) Sync(ctx context.Context) (bool, error) {
	if c.Shared == nil {
		return false, nil
	}
	c.mu.Lock()
	c.lastSync = time.Now()
	c.mu.Unlock()
	if err := c.loadOutcome(ctx); err != nil {
		return false, err
	}
	b, err := c.Shared.LatestVulnDB(ctx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.olderThan(b)) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	return c.syncLocked(ctx)
}

// olderThan reports whether build b is newer than the serving DB.
func (c *CurrentDB) olderThan(b store.VulnDBBuild) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.db == nil {
		return true
	}
	return b.Digest != c.digest && b.Built.After(c.db.Metadata().Built.Truncate(time.Millisecond))
}

// syncLocked is Sync with refreshMu held (a refresh starts from the newest
// shared build, so its diff and conditional requests are against it).
func (c *CurrentDB) syncLocked(ctx context.Context) (bool, error) {
	if c.Shared == nil {
		return false, nil
	}
	b, err := c.Shared.LatestVulnDB(ctx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !c.olderThan(b)) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(c.Config.DBPath), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.Config.DBPath), ".shared-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	err = c.Shared.ReadVulnDB(ctx, b, io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("loading the shared vulnerability DB: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != b.Digest {
		return false, fmt.Errorf("shared vulnerability DB build %d: digest %s, want %s", b.ID, got, b.Digest)
	}
	if err := os.Rename(tmp.Name(), c.Config.DBPath); err != nil {
		return false, err
	}
	if err := c.install(); err != nil {
		return false, err
	}
	if c.Logger != nil {
		c.Logger.Info("loaded the shared vulnerability DB", "digest", b.Digest, "built", b.Built)
	}
	return true, nil
}

// Fresh syncs when the last look at the shared store is older than a
// couple of seconds: jobs call it before matching, so a build published
// by another process is used at once.
func (c *CurrentDB) Fresh(ctx context.Context) error {
	if c.Shared == nil {
		return nil
	}
	c.mu.RLock()
	recent := time.Since(c.lastSync) < freshEvery
	c.mu.RUnlock()
	if recent {
		return nil
	}
	_, err := c.Sync(ctx)
	return err
}

// Watch syncs every interval until ctx ends (a process that runs no job
// for a while, an API replica, still serves the newest build).
func (c *CurrentDB) Watch(ctx context.Context, every time.Duration) {
	if c.Shared == nil || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := c.Sync(ctx); err != nil && ctx.Err() == nil && c.Logger != nil {
				c.Logger.Warn("checking the shared vulnerability DB", "err", err)
			}
		}
	}
}

// Digest is the serving build's digest ("" before the first).
func (c *CurrentDB) Digest() string { return c.currentDigest() }

// shareOutcome records a refresh's outcome for the other processes.
func (c *CurrentDB) shareOutcome(ctx context.Context, at time.Time, err error) {
	if c.Shared == nil {
		return
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if rerr := c.Shared.RecordVulnDBRefresh(rctx, at, msg); rerr != nil && c.Logger != nil {
		c.Logger.Warn("recording the refresh outcome in the shared database", "err", rerr)
	}
}

// loadOutcome takes the deployment's last refresh outcome when another
// process's refresh is newer than this one's.
func (c *CurrentDB) loadOutcome(ctx context.Context) error {
	at, msg, err := c.Shared.LastVulnDBRefresh(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.After(c.lastTry.Truncate(time.Millisecond)) {
		c.lastTry, c.lastErr = at, nil
		if msg != "" {
			c.lastErr = errors.New(msg)
		}
	}
	return nil
}
