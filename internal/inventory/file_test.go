package inventory

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestFileBytes(t *testing.T) {
	tests := []struct {
		name    string
		size    int64 // declared
		content string
		limit   int64
		want    string
		wantErr error
	}{
		{name: "exact size", size: 5, content: "hello", limit: 10, want: "hello"},
		{name: "unknown size", size: -1, content: "hello", limit: 10, want: "hello"},
		{name: "unknown size over the limit", size: -1, content: "hello world", limit: 5, wantErr: ErrFileTooLarge},
		{name: "declared size over the limit", size: 11, content: "hello world", limit: 5, wantErr: ErrFileTooLarge},
		{name: "more content than declared", size: 2, content: "hello", limit: 10, want: "hello"},
		{name: "more content than declared, over the limit", size: 2, content: "hello world", limit: 5, wantErr: ErrFileTooLarge},
		{name: "less content than declared", size: 9, content: "hello", limit: 10, want: "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFile("a", 0o644, tt.size, strings.NewReader(tt.content), t.TempDir(), 0)
			defer f.Close()
			b, err := f.Bytes(tt.limit)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(b) != tt.want {
				t.Fatalf("Bytes = %q, %v; want %q", b, err, tt.want)
			}
		})
	}
}

func TestFileStreamReadOnce(t *testing.T) {
	f := NewFile("a", 0o644, 5, strings.NewReader("hello"), t.TempDir(), 0)
	defer f.Close()
	if p, err := f.Peek(3); err != nil || string(p) != "hel" {
		t.Fatalf("Peek = %q, %v", p, err)
	}
	r, err := f.Reader()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "hello" {
		t.Fatalf("read %q", b)
	}
	if _, err := f.Reader(); err == nil {
		t.Error("second Reader of an unbuffered stream succeeded")
	}
}

func TestFileBufferedRereads(t *testing.T) {
	// 20 MiB: over the in-memory limit, so it spills to a temporary file.
	size := int64(20 << 20)
	f := NewFile("big", 0o644, size, io.LimitReader(zeros{}, size), t.TempDir(), 0)
	if err := f.Buffer(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r, err := f.Reader()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		if c, ok := r.(io.Closer); ok {
			c.Close()
		}
		if err != nil || n != size {
			t.Fatalf("re-read %d bytes, %v", n, err)
		}
	}
	ra, n, err := f.ReaderAt()
	if err != nil || n != size || ra == nil {
		t.Fatalf("ReaderAt: %d, %v", n, err)
	}
	tmp := f.tmpPath
	f.Close()
	if tmp == "" || f.tmpPath != "" {
		t.Errorf("temporary file %q not removed", tmp)
	}
}

func TestFileTempPathLimit(t *testing.T) {
	f := NewFile("a", 0o644, -1, strings.NewReader("0123456789"), t.TempDir(), 4)
	defer f.Close()
	if _, err := f.TempPath(); !errors.Is(err, ErrFileTooLarge) {
		t.Fatalf("err = %v, want ErrFileTooLarge", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
