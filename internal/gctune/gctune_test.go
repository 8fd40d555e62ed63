package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestStartRestoresAfterFirstCollection(t *testing.T) {
	t.Setenv("GOGC", "")
	debug.SetGCPercent(100)
	Start()
	if got := gcPercent(); got != firstGCPercent {
		t.Fatalf("GC percent after Start = %d, want %d", got, firstGCPercent)
	}
	runtime.GC()
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GC percent still %d after a collection, want 100 again", gcPercent())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartLeavesUserGOGC(t *testing.T) {
	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	defer debug.SetGCPercent(100)
	Start()
	if got := gcPercent(); got != 50 {
		t.Fatalf("GC percent = %d with GOGC=50 set, want 50", got)
	}
}
