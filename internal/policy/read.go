package policy

import (
	"fmt"
	"io"
	"os"
)

// readLimited reads a whole file, refusing files larger than max.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, &tooLargeError{path, max}
	}
	return data, nil
}

// tooLargeError: a file is larger than its cap.
type tooLargeError struct {
	path string
	max  int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than %d MiB", e.path, e.max>>20)
}

// openLimited opens a file to be read as a stream: reading more than max
// bytes from it fails with the error readLimited gives, which a regular
// file larger than max gives at once.
func openLimited(path string, max int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > max {
		f.Close()
		return nil, &tooLargeError{path, max}
	}
	return &limitedFile{f: f, path: path, max: max, left: max}, nil
}

type limitedFile struct {
	f         *os.File
	path      string
	max, left int64
}

func (l *limitedFile) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &tooLargeError{l.path, l.max}
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.f.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, &tooLargeError{l.path, l.max}
	}
	return n, err
}

func (l *limitedFile) Close() error { return l.f.Close() }
