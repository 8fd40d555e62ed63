package image

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Temporary files and directories this package creates under TempDir. A
// run that is killed leaves them behind; the next run removes them.
var tempPatterns = []string{"vigil-archive-*", "vigil-oci-*"}

// createTemp makes a temporary file under dir and holds a shared lock on
// it until release, so removeStaleTemp in another process leaves it alone.
func createTemp(dir, pattern string) (*os.File, func(), error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, nil, err
	}
	unlock := lockShared(f)
	return f, func() { unlock(); os.Remove(f.Name()) }, nil
}

// mkdirTemp is createTemp for a directory: the lock is held on the
// directory itself.
func mkdirTemp(dir, pattern string) (string, func(), error) {
	d, err := os.MkdirTemp(dir, pattern)
	if err != nil {
		return "", nil, err
	}
	f, err := os.Open(d)
	if err != nil {
		os.RemoveAll(d)
		return "", nil, err
	}
	unlock := lockShared(f)
	return d, func() { unlock(); f.Close(); os.RemoveAll(d) }, nil
}

// removeStaleTemp removes what killed runs left in dir: entries matching
// tempPatterns older than staleTempAge that no running scan holds a lock
// on (a scan of a huge archive may run longer than staleTempAge).
func removeStaleTemp(dir string, logger *slog.Logger) {
	now := time.Now()
	for _, pattern := range tempPatterns {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range matches {
			info, err := os.Lstat(p)
			if err != nil || now.Sub(info.ModTime()) < staleTempAge || info.Mode()&os.ModeSymlink != 0 {
				continue
			}
			if !unlocked(p) {
				continue
			}
			if err := os.RemoveAll(p); err == nil {
				logger.Debug("removed a temporary file left by an earlier run", "path", p)
			}
		}
	}
}
