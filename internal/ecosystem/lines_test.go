package ecosystem

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestScanLines(t *testing.T) {
	var got []string
	err := ScanLines(context.Background(), strings.NewReader("a\r\nb\n\nc"), 16, func(n int, line string) error {
		got = append(got, line)
		if n != len(got) {
			t.Errorf("line %q numbered %d, want %d", line, n, len(got))
		}
		return nil
	})
	if err != nil || strings.Join(got, "|") != "a|b||c" {
		t.Fatalf("lines %q, err %v", got, err)
	}

	err = ScanLines(context.Background(), strings.NewReader("ok\n"+strings.Repeat("x", 100)+"\n"), 16, func(int, string) error { return nil })
	if err == nil || err.Error() != "line 2: longer than 16 bytes" {
		t.Errorf("long line: err = %v", err)
	}

	stop := errors.New("stop")
	calls := 0
	err = ScanLines(context.Background(), strings.NewReader("1\n2\n3\n"), 16, func(int, string) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: err = %v after %d calls", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = ScanLines(ctx, strings.NewReader(strings.Repeat("x\n", 10000)), 16, func(int, string) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
