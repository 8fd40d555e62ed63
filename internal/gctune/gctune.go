// Package gctune keeps a short vigil run from spending its time in the
// garbage collector. With Go's default (GOGC=100) the first collections
// come at 4, 8, 16 MB of heap: a re-scan of a cached 12-layer image, whose
// heap never passes 8 MB, ran five collections in 50 ms, a quarter of its
// time (bench/rescan.sh). Until the first collection the heap may grow to
// 64 MB instead; after it, the default applies again, so a large scan's
// heap goal stays twice its live heap, as before, and the memory bounds
// measured for large inputs (bench/inputs-rss.sh) are unchanged.
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
)

// firstGCPercent puts the first collection at 64 MB of heap (the runtime's
// 4 MB minimum heap times GOGC/100).
const firstGCPercent = 1600

// Start raises the GC percentage until the first collection, unless the
// user set GOGC. It returns at once.
func Start() {
	if os.Getenv("GOGC") != "" {
		return
	}
	prev := debug.SetGCPercent(firstGCPercent)
	// The finalizer of an object nothing refers to runs after the first
	// collection that finds it unreachable.
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) { debug.SetGCPercent(prev) })
}
