package vulndb

import (
	"errors"
	"fmt"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsDiskFull reports whether err comes from a full disk: ENOSPC from a
// file write, or SQLite's SQLITE_FULL ("database or disk is full").
func IsDiskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

// ExplainDiskFull rewords a full-disk error so the user reads the cause
// first, whichever layer hit it; other errors are returned unchanged.
func ExplainDiskFull(err error, dir string) error {
	if err == nil || !IsDiskFull(err) || errors.Is(err, syscall.ENOSPC) {
		return err
	}
	return fmt.Errorf("no space left on device (in %s): %w", dir, err)
}
