package inventory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// DefaultMaxFileSize bounds how much of one file an analyzer may read.
const DefaultMaxFileSize = 512 << 20

// memoryLimit is the largest content ReaderAt keeps in memory; larger files
// spill to a temporary file so a scan's memory does not grow with file size.
const memoryLimit = 16 << 20

// ErrFileTooLarge is returned when a file exceeds the configured read limit.
var ErrFileTooLarge = errors.New("file exceeds the size limit")

// File is one claimed file of a layer, readable once as a stream, or
// random-access through ReaderAt / TempPath (which buffer it first).
type File struct {
	Path string
	Mode fs.FileMode
	Size int64

	src     *bufio.Reader
	tempDir string
	maxSize int64

	buf     []byte // content once buffered in memory
	tmpPath string // content once spilled to disk
	used    bool   // the stream has been handed out
	closers []io.Closer
}

// NewFile wraps content read from r; size is the declared size, negative
// when unknown. tempDir is where large files spill (empty means
// os.TempDir); maxSize <= 0 means DefaultMaxFileSize.
func NewFile(path string, mode fs.FileMode, size int64, r io.Reader, tempDir string, maxSize int64) *File {
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	// A 64 KiB buffer per file was a tenth of the CPU of a secret scan over
	// many small files: small files get a buffer their size.
	bufSize := 64 << 10
	if size >= 0 && size < int64(bufSize) {
		bufSize = max(int(size)+1, 512)
	}
	return &File{Path: path, Mode: mode, Size: size, src: bufio.NewReaderSize(r, bufSize), tempDir: tempDir, maxSize: maxSize}
}

// NewFileBytes wraps content already in memory.
func NewFileBytes(path string, mode fs.FileMode, content []byte) *File {
	return &File{Path: path, Mode: mode, Size: int64(len(content)), buf: content, maxSize: DefaultMaxFileSize}
}

// Peek returns the first n bytes without consuming them (fewer at EOF).
func (f *File) Peek(n int) ([]byte, error) {
	if f.buf != nil || f.tmpPath != "" {
		ra, _, err := f.ReaderAt()
		if err != nil {
			return nil, err
		}
		b := make([]byte, n)
		m, err := ra.ReadAt(b, 0)
		if err == io.EOF {
			err = nil
		}
		return b[:m], err
	}
	b, err := f.src.Peek(n)
	if err == io.EOF || errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	return b, err
}

// Reader returns the content as a stream, limited to the size limit. Once
// the content has been buffered (ReaderAt, Bytes) every call returns a new
// reader from the start.
func (f *File) Reader() (io.Reader, error) {
	if f.buf != nil {
		return bytes.NewReader(f.buf), nil
	}
	if f.tmpPath != "" {
		return os.Open(f.tmpPath)
	}
	src, err := f.stream()
	if err != nil {
		return nil, err
	}
	return io.LimitReader(src, f.maxSize), nil
}

// stream hands out the unread stream, once, unlimited: callers that must
// tell a file over the size limit from one at it read one byte past it.
func (f *File) stream() (io.Reader, error) {
	if f.used {
		return nil, fmt.Errorf("%s: content already consumed", f.Path)
	}
	if f.Size > f.maxSize {
		return nil, fmt.Errorf("%s: %d bytes: %w", f.Path, f.Size, ErrFileTooLarge)
	}
	f.used = true
	return f.src, nil
}

// Bytes returns the whole content, refusing files over limit bytes.
func (f *File) Bytes(limit int64) ([]byte, error) {
	if f.Size > limit {
		return nil, fmt.Errorf("%s: %d bytes (limit %d): %w", f.Path, f.Size, limit, ErrFileTooLarge)
	}
	if f.buf != nil {
		return f.buf, nil
	}
	if f.tmpPath != "" {
		return os.ReadFile(f.tmpPath)
	}
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	// The tar header gives the size: one exact allocation instead of
	// io.ReadAll's doubling, which showed in profiles of the secret scan.
	// A negative size means unknown.
	size := max(f.Size, 0)
	b := make([]byte, size)
	n, err := io.ReadFull(r, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	b = b[:n]
	// Content beyond the declared size (a File built from a plain reader)
	// is read too, up to the limit.
	if int64(n) == size {
		rest, err := io.ReadAll(io.LimitReader(r, limit+1-size))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.Path, err)
		}
		if len(rest) > 0 {
			b = append(b, rest...)
		}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes: %w", f.Path, limit, ErrFileTooLarge)
	}
	f.buf = b
	return b, nil
}

// ReaderAt gives random access to the content, buffering it in memory when
// small and in a temporary file otherwise. The returned size is the number
// of bytes actually available.
func (f *File) ReaderAt() (io.ReaderAt, int64, error) {
	if f.buf != nil {
		return bytes.NewReader(f.buf), int64(len(f.buf)), nil
	}
	if f.tmpPath == "" {
		if f.Size <= memoryLimit {
			b, err := f.Bytes(memoryLimit)
			if err != nil {
				return nil, 0, err
			}
			return bytes.NewReader(b), int64(len(b)), nil
		}
		if _, err := f.TempPath(); err != nil {
			return nil, 0, err
		}
	}
	fh, err := os.Open(f.tmpPath)
	if err != nil {
		return nil, 0, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, 0, err
	}
	// The handle is closed by Close; ReaderAt users never outlive the File.
	f.closers = append(f.closers, fh)
	return fh, st.Size(), nil
}

// TempPath writes the content to a temporary file and returns its path, for
// libraries that only open files by name (rpm databases). Close removes it.
func (f *File) TempPath() (string, error) {
	if f.tmpPath != "" {
		return f.tmpPath, nil
	}
	tmp, err := os.CreateTemp(f.tempDir, "vigil-file-*")
	if err != nil {
		return "", fmt.Errorf("buffering %s: %w", f.Path, err)
	}
	var src io.Reader
	if f.buf != nil {
		src = bytes.NewReader(f.buf)
	} else {
		r, err := f.stream()
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return "", err
		}
		src = r
	}
	n, err := io.Copy(tmp, io.LimitReader(src, f.maxSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > f.maxSize {
		err = fmt.Errorf("%s: more than %d bytes: %w", f.Path, f.maxSize, ErrFileTooLarge)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("buffering %s: %w", f.Path, err)
	}
	f.tmpPath = tmp.Name()
	return f.tmpPath, nil
}

// Buffer makes the content re-readable (so several analyzers can share one
// file) without reading more than the size limit into memory.
func (f *File) Buffer() error {
	if f.buf != nil || f.tmpPath != "" {
		return nil
	}
	if f.Size <= memoryLimit {
		_, err := f.Bytes(memoryLimit)
		return err
	}
	_, err := f.TempPath()
	return err
}

// Close releases temporary files and handles.
func (f *File) Close() error {
	for _, c := range f.closers {
		c.Close()
	}
	f.closers = nil
	if f.tmpPath != "" {
		os.Remove(f.tmpPath)
		f.tmpPath = ""
	}
	return nil
}
