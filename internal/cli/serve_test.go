package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeSaysWhereToGo: at the default log level a first start prints
// where the API and UI are, how to get a token, and that the first DB is
// being built from the configured mirror.
func TestServeSaysWhereToGo(t *testing.T) {
	dir := t.TempDir()
	mirror := t.TempDir()
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		env := map[string]string{"VIGIL_FEEDS_MIRROR": mirror, "VIGIL_CACHE_DIR": dir}
		done <- Main(ctx, []string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0"}, IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &stderr, Getenv: func(k string) string { return env[k] }})
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "building the first vulnerability DB") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	out := stderr.String()
	for _, want := range []string{"vigil serve: API and web UI on http://127.0.0.1:", "vigil token create --data-dir " + dir, "building the first vulnerability DB from " + mirror} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
}
