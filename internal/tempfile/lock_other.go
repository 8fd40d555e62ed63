//go:build !unix

package tempfile

import (
	"os"
	"time"
)

const syscallNoFollow = 0

// unlockedMinAge: with no lock to tell a live build from a dead one, only
// files a day old are removed.
const unlockedMinAge = 24 * time.Hour

// Without flock, a file is considered stale by age alone (MinAge).
func lock(*os.File) error    { return nil }
func tryLock(*os.File) error { return nil }
