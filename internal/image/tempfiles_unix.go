//go:build unix

package image

import (
	"os"
	"syscall"
)

// lockShared takes a shared flock on f; the lock ends when f is closed or
// the process exits, however it exits.
func lockShared(f *os.File) func() {
	syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
}

// unlocked reports whether no process holds a lock on p.
func unlocked(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}
