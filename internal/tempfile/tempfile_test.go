package tempfile

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func age(t *testing.T, path string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveStale(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	// A file left by a killed run: old and unlocked.
	dead := filepath.Join(dir, "vigil-feed-dead")
	os.WriteFile(dead, []byte("x"), 0o600)
	age(t, dead, time.Hour)
	// A file of a live run: old (a long download) but locked.
	live, err := Create(dir, "vigil-feed-*")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	age(t, live.Name(), time.Hour)
	// A fresh unlocked file: maybe created an instant before its lock.
	fresh := filepath.Join(dir, "vigil-feed-fresh")
	os.WriteFile(fresh, []byte("x"), 0o600)
	// Not matching the pattern, and a symlink that matches.
	other := filepath.Join(dir, "keep.db")
	os.WriteFile(other, []byte("x"), 0o600)
	age(t, other, time.Hour)
	link := filepath.Join(dir, "vigil-feed-link")
	os.Symlink(other, link)

	removed, err := RemoveStale(dir, "vigil-feed-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != dead {
		t.Errorf("removed %q, want only %s", removed, dead)
	}
	for _, p := range []string{live.Name(), fresh, other, link} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	// Once its owner closes it, the live file is stale too.
	live.Close()
	if removed, _ := RemoveStale(dir, "vigil-feed-*"); len(removed) != 1 || removed[0] != live.Name() {
		t.Errorf("after close: removed %q", removed)
	}
}

// TestLockHeldByAnotherProcess: the lock of a live process (not just of
// another open file in this one) keeps its file, and its death frees it.
func TestLockHeldByAnotherProcess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	if p := os.Getenv("VIGIL_TEMPFILE_HOLD"); p != "" {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil || lock(f) != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "vigil.db.tmp-123")
	os.WriteFile(p, nil, 0o600)
	age(t, p, time.Hour)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHeldByAnotherProcess$")
	cmd.Env = append(os.Environ(), "VIGIL_TEMPFILE_HOLD="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 7)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper: %q %v", buf, err)
	}
	if removed, _ := RemoveStale(dir, "vigil.db.tmp-*"); len(removed) != 0 {
		t.Errorf("removed %q while another process held it", removed)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if removed, _ := RemoveStale(dir, "vigil.db.tmp-*"); len(removed) != 1 {
		t.Errorf("after the process died: removed %q", removed)
	}
}
