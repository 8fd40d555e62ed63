//go:build unix

package image

import (
	"errors"
	"syscall"
)

// openNoFollow makes opening a cache entry fail on a symlink (ELOOP) and
// not block on a FIFO; the entry's type is checked once open.
const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

func isSymlinkLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
