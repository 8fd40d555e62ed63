package image

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"reflect"
	"strings"
	"sync"
)

// ErrDigestMismatch: content does not hash to the digest that names it (a
// manifest, a config, a layer blob or a layer's uncompressed content).
var ErrDigestMismatch = errors.New("digest mismatch")

// digester hashes content as it streams by and compares the sum with the
// digest ("sha256:<hex>") that named the content.
type digester struct {
	want string
	hash.Hash
}

func newDigester(want string) (*digester, error) {
	alg, hexSum, ok := strings.Cut(want, ":")
	var h hash.Hash
	var size int
	switch alg {
	case "sha256":
		h, size = sha256.New(), sha256.Size
	case "sha512":
		h, size = sha512.New(), sha512.Size
	default:
		return nil, fmt.Errorf("digest %q: unsupported algorithm: %w", want, ErrDigestMismatch)
	}
	if b, err := hex.DecodeString(hexSum); !ok || err != nil || len(b) != size || strings.ToLower(hexSum) != hexSum {
		return nil, fmt.Errorf("digest %q: malformed: %w", want, ErrDigestMismatch)
	}
	return &digester{want: want, Hash: h}, nil
}

func (d *digester) sum() string {
	alg, _, _ := strings.Cut(d.want, ":")
	return alg + ":" + hex.EncodeToString(d.Sum(nil))
}

// check reports a mismatch of what was hashed, described by what.
func (d *digester) check(what string) error {
	if got := d.sum(); got != d.want {
		return fmt.Errorf("%s has digest %s, expected %s: %w", what, got, d.want, ErrDigestMismatch)
	}
	return nil
}

// checkDigest verifies content read whole (manifests, configs).
func checkDigest(want string, content []byte, what string) error {
	if !verifyContent {
		return nil
	}
	d, err := newDigester(want)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	d.Write(content)
	return d.check(what)
}

// hashingReader feeds everything read through it to a digester (or an
// asyncHasher).
type hashingReader struct {
	r io.Reader
	d io.Writer
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.d.Write(p[:n])
	return n, err
}

// asyncChunk is the unit an asyncHasher hands to its goroutine.
const asyncChunk = 256 << 10

var asyncChunks = sync.Pool{New: func() any { b := make([]byte, 0, asyncChunk); return &b }}

// asyncHasher feeds a digester on its own goroutine, so SHA-256 of a
// layer's uncompressed content runs beside its decompression when a core
// is free (more cores than layers read at once): the hash then costs no
// wall time, at the price of one copy of the content. Callers must call
// wait (also on error paths) before checking the digester.
type asyncHasher struct {
	buf  *[]byte
	ch   chan *[]byte
	done chan struct{}
}

func newAsyncHasher(d *digester) *asyncHasher {
	ch, done := make(chan *[]byte, 4), make(chan struct{})
	a := &asyncHasher{ch: ch, done: done}
	go func() {
		defer close(done)
		for b := range ch {
			d.Write(*b)
			*b = (*b)[:0]
			asyncChunks.Put(b)
		}
	}()
	return a
}

func (a *asyncHasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if a.buf == nil {
			a.buf = asyncChunks.Get().(*[]byte)
		}
		b := *a.buf
		k := copy(b[len(b):cap(b)], p)
		*a.buf, p = b[:len(b)+k], p[k:]
		if len(*a.buf) == cap(*a.buf) {
			a.ch <- a.buf
			a.buf = nil
		}
	}
	return n, nil
}

// wait hashes what is left and stops the goroutine; it may be called more
// than once.
func (a *asyncHasher) wait() {
	if a.ch == nil {
		return
	}
	if a.buf != nil {
		a.ch <- a.buf
		a.buf = nil
	}
	close(a.ch)
	a.ch = nil
	<-a.done
}

// sourceVerifiedReader reads a blob that go-containerregistry's registry
// reader already hashes against its digest (it returns an error instead of
// io.EOF on a mismatch): hashing it again here would cost a second SHA-256
// over every compressed byte. Its mismatch error, of an internal type, is
// recognised by that type and made an ErrDigestMismatch.
type sourceVerifiedReader struct{ r io.Reader }

func (s *sourceVerifiedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && isGGCRVerifyError(err) {
		err = fmt.Errorf("blob: %v: %w", err, ErrDigestMismatch)
	}
	return n, err
}

func isGGCRVerifyError(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		t := reflect.TypeOf(err)
		if t.Name() == "Error" && t.PkgPath() == "github.com/google/go-containerregistry/internal/verify" {
			return true
		}
	}
	return false
}
