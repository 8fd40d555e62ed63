// Package tempfile owns the temporary files a Vigil run writes beside its
// outputs (a DB being built, a feed being downloaded) and their cleanup
// after a run that was killed. A file made by Create stays locked by its
// process until closed; RemoveStale deletes only files that are old enough
// and that no live process holds locked, so concurrent runs never lose
// their files.
package tempfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// MinAge is how old a temporary file must be before RemoveStale considers
// it: it covers the instant between creating a file and locking it. On
// platforms without flock, age is the only signal and a day is required.
var MinAge = time.Minute

// Create makes a temporary file in dir (os.CreateTemp's pattern rules) and
// locks it for as long as the returned file stays open.
func Create(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// RemoveStale deletes the regular files in dir matching pattern (a
// filepath.Match pattern such as "vigil-feed-*") that were last modified
// more than MinAge ago and are not locked by a live process. It returns
// the paths it removed; a file it cannot inspect or remove is left alone.
func RemoveStale(dir, pattern string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, path := range matches {
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || time.Since(fi.ModTime()) < max(MinAge, unlockedMinAge) {
			continue
		}
		if removeIfUnlocked(path) {
			removed = append(removed, path)
		}
	}
	return removed, nil
}

// removeIfUnlocked takes the file's lock without waiting; holding it means
// its creator is gone, so the file is removed while still locked.
func removeIfUnlocked(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR|syscallNoFollow, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := tryLock(f); err != nil {
		return false
	}
	err = os.Remove(path)
	return err == nil || errors.Is(err, fs.ErrNotExist)
}
