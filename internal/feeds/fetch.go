package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/vigil-scan/vigil/internal/tempfile"
)

// ErrNotFound means the feed document does not exist at its location (a
// 404/410 answer or a missing file in a mirror directory).
var ErrNotFound = errors.New("not found")

// Fetcher downloads feed documents. The zero value is usable.
type Fetcher struct {
	// Client defaults to http.DefaultTransport with no overall timeout: a
	// large dump on a slow link may take long, but it must keep moving
	// (IdleTimeout).
	Client *http.Client
	// IdleTimeout bounds the wait for the answer's headers and for each
	// read of the body (default 30 s): a stalled download fails (and is
	// retried) instead of hanging.
	IdleTimeout time.Duration
	// Attempts is the number of tries for network errors, 5xx and 429
	// (default 4); BaseDelay is the first backoff (default 1 s), doubled
	// each time; a Retry-After answer is honoured up to MaxDelay (60 s).
	Attempts  int
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxSize bounds one document (default 2 GiB).
	MaxSize int64
	// TempDir holds downloads while they are imported ("" = os.TempDir).
	TempDir   string
	UserAgent string

	// down remembers hosts that did not resolve or refused connections in
	// this run, so the next feed from the same host fails at once instead
	// of asking DNS again (a lost DNS answer costs the resolver's 5 s).
	down sync.Map // host -> error
	// progress counts bytes for an Updater's Progress while it runs.
	progress *Progress
}

// Validators are what a previous fetch remembered, for conditional requests.
type Validators struct {
	ETag, LastModified string
}

// Fetched is one fetched document. Close it to remove its temporary file.
type Fetched struct {
	File         *os.File
	Size         int64
	URL          string
	Digest       string // "sha256:<hex>"
	ETag         string
	LastModified string
	// NotModified is set on a 304 answer; File is nil then.
	NotModified bool
	temp        bool
}

// Close releases the document.
func (d *Fetched) Close() error {
	if d == nil || d.File == nil {
		return nil
	}
	err := d.File.Close()
	if d.temp {
		os.Remove(d.File.Name())
	}
	return err
}

// DefaultIdleTimeout is Fetcher.IdleTimeout's default.
const DefaultIdleTimeout = 30 * time.Second

func (f *Fetcher) idleTimeout() time.Duration {
	if f.IdleTimeout > 0 {
		return f.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (f *Fetcher) maxSize() int64 {
	if f.MaxSize > 0 {
		return f.MaxSize
	}
	return 2 << 30
}

// Fetch gets the document at loc, a URL or a local path.
func (f *Fetcher) Fetch(ctx context.Context, loc string, prev Validators, header http.Header) (*Fetched, error) {
	if !isRemote(loc) {
		return f.fetchLocal(ctx, localPath(loc))
	}
	attempts := f.Attempts
	if attempts <= 0 {
		attempts = 4
	}
	host := ""
	if u, err := url.Parse(loc); err == nil {
		host = u.Host
	}
	if err, ok := f.down.Load(host); ok {
		return nil, fmt.Errorf("%s: %w", loc, err.(error))
	}
	var lastErr error
	for attempt := 0; attempt < attempts; attempt++ {
		doc, retryAfter, err := f.fetchOnce(ctx, loc, prev, header)
		if errors.Is(err, ErrUnreachable) {
			f.down.Store(host, err)
		}
		if err == nil || !isRetryable(err) {
			return doc, err
		}
		lastErr = err
		if attempt == attempts-1 {
			break
		}
		delay := f.backoff(attempt, retryAfter)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
	return nil, fmt.Errorf("%s: giving up after %d attempts: %w", loc, attempts, lastErr)
}

func (f *Fetcher) backoff(attempt int, retryAfter time.Duration) time.Duration {
	base := f.BaseDelay
	if base <= 0 {
		base = time.Second
	}
	maxDelay := f.MaxDelay
	if maxDelay <= 0 {
		maxDelay = time.Minute
	}
	d := base << attempt
	if retryAfter > d {
		d = retryAfter
	}
	return min(d, maxDelay)
}

// retryableError marks failures worth another try.
type retryableError struct{ err error }

func (e retryableError) Error() string { return e.err.Error() }
func (e retryableError) Unwrap() error { return e.err }

func isRetryable(err error) bool {
	var r retryableError
	return errors.As(err, &r)
}

// errStalled cancels a request whose server stopped sending.
var errStalled = errors.New("stalled")

func (f *Fetcher) fetchOnce(ctx context.Context, loc string, prev Validators, header http.Header) (*Fetched, time.Duration, error) {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := f.idleTimeout()
	timer := time.AfterFunc(idle, func() { cancel(errStalled) })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", loc, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return nil, 0, parent.Err()
		}
		if errors.Is(context.Cause(ctx), errStalled) {
			return nil, 0, retryableError{fmt.Errorf("%s: no answer within %s", loc, idle)}
		}
		if u := unreachable(err); u != nil {
			return nil, 0, u
		}
		return nil, 0, retryableError{err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return &Fetched{URL: loc, NotModified: true, ETag: prev.ETag, LastModified: prev.LastModified}, 0, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, 0, fmt.Errorf("%s: %w (HTTP %d)", loc, ErrNotFound, resp.StatusCode)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, retryAfter(resp.Header.Get("Retry-After")), retryableError{fmt.Errorf("%s: HTTP %s", loc, resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return nil, 0, fmt.Errorf("%s: HTTP %s", loc, resp.Status)
	}
	if resp.ContentLength > f.maxSize() {
		return nil, 0, fmt.Errorf("%s: %d bytes, over the %d byte limit", loc, resp.ContentLength, f.maxSize())
	}
	body := &idleReader{r: resp.Body, timer: timer, idle: idle}
	doc, err := f.save(body, loc, resp.ContentLength)
	if err != nil {
		if parent.Err() != nil {
			return nil, 0, parent.Err()
		}
		if errors.Is(context.Cause(ctx), errStalled) {
			return nil, 0, retryableError{fmt.Errorf("%s: download stalled: no data for %s after %d bytes", loc, idle, body.n)}
		}
		return nil, 0, err
	}
	doc.ETag = resp.Header.Get("ETag")
	doc.LastModified = resp.Header.Get("Last-Modified")
	return doc, 0, nil
}

// idleReader restarts the stall timer whenever data arrives.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
	n     int64
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.n += int64(n)
		r.timer.Reset(r.idle)
	}
	return n, err
}

// errWriter remembers a write error, so that a full disk is told apart from
// a broken download.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// save streams a body to a temporary file, hashing it and checking its
// length against Content-Length. The file is locked while open, so a later
// run's cleanup (RemoveStaleDownloads) leaves it alone.
func (f *Fetcher) save(body io.Reader, loc string, want int64) (*Fetched, error) {
	tmp, err := tempfile.Create(f.TempDir, tempPattern)
	if err != nil {
		return nil, fmt.Errorf("%s: creating download file: %w", loc, err)
	}
	doc := &Fetched{File: tmp, URL: loc, temp: true}
	h := sha256.New()
	out := &errWriter{w: tmp}
	n, err := io.Copy(io.MultiWriter(out, h, progressWriter{f.progress}), io.LimitReader(body, f.maxSize()+1))
	if out.err != nil {
		// Not retried: another attempt would fill the same disk.
		doc.Close()
		return nil, fmt.Errorf("%s: writing download: %w", loc, out.err)
	}
	if err != nil {
		doc.Close()
		return nil, retryableError{fmt.Errorf("%s: reading body: %w", loc, err)}
	}
	if n > f.maxSize() {
		doc.Close()
		return nil, fmt.Errorf("%s: over the %d byte limit", loc, f.maxSize())
	}
	if want >= 0 && n != want {
		doc.Close()
		return nil, retryableError{fmt.Errorf("%s: got %d bytes, Content-Length said %d", loc, n, want)}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		doc.Close()
		return nil, err
	}
	doc.Size = n
	doc.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return doc, nil
}

// tempPattern names downloads in Fetcher.TempDir.
const tempPattern = "vigil-feed-*"

// RemoveStaleDownloads deletes downloads that killed runs left in the
// fetcher's temporary directory; live runs' files are locked and kept.
func (f *Fetcher) RemoveStaleDownloads() ([]string, error) {
	dir := f.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	return tempfile.RemoveStale(dir, tempPattern)
}

func (f *Fetcher) fetchLocal(ctx context.Context, path string) (*Fetched, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err == nil && fi.IsDir() {
		err = fmt.Errorf("%s is a directory", path)
	}
	if err == nil && fi.Size() > f.maxSize() {
		err = fmt.Errorf("%s: %d bytes, over the %d byte limit", path, fi.Size(), f.maxSize())
	}
	h := sha256.New()
	if err == nil {
		_, err = io.Copy(h, file)
	}
	if err == nil {
		_, err = file.Seek(0, io.SeekStart)
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	f.progress.addBytes(fi.Size())
	return &Fetched{File: file, Size: fi.Size(), URL: path, Digest: "sha256:" + hex.EncodeToString(h.Sum(nil))}, nil
}

// progressWriter counts downloaded bytes as they are saved.
type progressWriter struct{ p *Progress }

func (w progressWriter) Write(b []byte) (int, error) {
	w.p.addBytes(int64(len(b)))
	return len(b), nil
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// ErrUnreachable: the host does not resolve or refuses connections. This
// is what being offline (or a typo in a URL) looks like, and retrying with
// backoff would only make an offline run slow, so it fails at once.
var ErrUnreachable = errors.New("host unreachable")

// unreachable turns a DNS failure or a refused connection into one short
// line naming the host; other errors give nil.
func unreachable(err error) error {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%w: cannot resolve %s (offline? set a mirror with --mirror or VIGIL_FEEDS_MIRROR)", ErrUnreachable, dnsErr.Name)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		var opErr *net.OpError
		addr := ""
		if errors.As(err, &opErr) && opErr.Addr != nil {
			addr = " " + opErr.Addr.String()
		}
		return fmt.Errorf("%w: connection refused by%s", ErrUnreachable, addr)
	}
	return nil
}
