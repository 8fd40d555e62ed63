//go:build unix

package tempfile

import (
	"os"
	"syscall"
)

const syscallNoFollow = syscall.O_NOFOLLOW

// unlockedMinAge is 0: the lock tells a live file from a stale one.
const unlockedMinAge = 0

// lock takes an exclusive flock(2) on f. flock locks belong to the open
// file, not the process, so they do not interfere with SQLite's fcntl
// locks on the same file, and the kernel drops them when the process dies.
func lock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

func tryLock(f *os.File) error { return lock(f) }
