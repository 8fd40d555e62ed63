package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
	"github.com/vigil-scan/vigil/internal/urlcred"
)

// WireVersion is the version of the publish payload (docs/publish.md).
const WireVersion = "1"

// MediaType of the publish payload.
const MediaType = "application/vnd.vigil.scan.v1+json"

// Payload is what `vigil publish` sends.
type Payload struct {
	Version string         `json:"version"`
	Image   Image          `json:"image"`
	Trace   Trace          `json:"trace"`
	Report  *result.Report `json:"report"`
}

// Image identifies the scanned image on the wire.
type Image struct {
	Name    string `json:"name"`
	Digest  string `json:"digest,omitempty"`
	ImageID string `json:"image_id,omitempty"`
}

// Receipt is the server's answer to a successful publish.
type Receipt struct {
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
}

// NewPayload builds the payload for a report and CI trace. The report's
// config secrets are masked again: a report file may come from another
// tool or version, and the payload leaves the machine.
func NewPayload(r *result.Report, t Trace) Payload {
	cp := *r
	secrets.RedactReport(&cp)
	r = &cp
	return Payload{
		Version: WireVersion,
		Image:   Image{Name: r.Artifact.Name, Digest: r.Artifact.Digest, ImageID: r.Artifact.ImageID},
		Trace:   t,
		Report:  r,
	}
}

// IdempotencyKey identifies one publish of one image from one CI run, so a
// retried POST that did reach the server is not stored twice.
func (p Payload) IdempotencyKey() string {
	h := sha256.New()
	for _, s := range []string{p.Image.Digest, p.Image.ImageID, p.Image.Name, p.Trace.Provider, p.Trace.RunID, p.Trace.RunAttempt, p.Trace.Commit} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if p.Trace.RunID == "" && p.Report != nil {
		h.Write([]byte(p.Report.CreatedAt.UTC().Format(time.RFC3339Nano)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Client posts payloads to a Vigil server.
type Client struct {
	Server string
	Token  string
	HTTP   *http.Client
	// Attempts is the total number of tries (default 4).
	Attempts int
	// BaseDelay is the first backoff delay (default 1s), doubled per retry
	// with jitter and capped at 30s.
	BaseDelay time.Duration
}

// ErrPublish wraps every failure to publish, so callers can decide whether
// it fails the build.
var ErrPublish = errors.New("publish failed")

// maxResponse bounds how much of a server answer is read.
const maxResponse = 1 << 20

// Publish sends p to <Server>/api/v1/scans (see Send).
func (c *Client) Publish(ctx context.Context, p Payload) (*Receipt, error) {
	if p.Report == nil {
		return nil, fmt.Errorf("%w: no report", ErrPublish)
	}
	u, err := NewUpload(p.Report, p.Trace)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx, u)
}

// Send posts u to <Server>/api/v1/scans, retrying network errors, 5xx
// and 429 (honouring Retry-After) with exponential backoff. Every attempt
// writes the body anew (a report file is read again), with its length
// announced and, above 1 MiB, sent only once the server has said it will
// take it (Expect: 100-continue), so a server refusing the size answers
// 413 before the body is sent.
func (c *Client) Send(ctx context.Context, u *Upload) (*Receipt, error) {
	endpoint, err := Endpoint(c.Server)
	if err != nil {
		return nil, err
	}
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 4
	}
	delay := c.BaseDelay
	if delay <= 0 {
		delay = time.Second
	}
	httpc := c.HTTP
	if httpc == nil {
		// The timeout covers sending the body: a minute, plus a second per
		// MiB (a 512 MiB report at 1 MiB/s).
		httpc = &http.Client{Timeout: time.Minute + time.Duration(u.Size()>>20)*time.Second}
	}
	httpc = keepTokenAtOrigin(httpc)
	key := u.IdempotencyKey()
	var lastErr error
	for attempt := 1; attempt <= attempts; attempt++ {
		receipt, retryAfter, err := c.post(ctx, httpc, endpoint, key, u)
		if err == nil {
			return receipt, nil
		}
		lastErr = err
		var perm *permanentError
		if errors.As(err, &perm) || errors.Is(err, errReportChanged) || attempt == attempts {
			break
		}
		wait := retryAfter
		if wait <= 0 {
			wait = delay + time.Duration(rand.Int64N(int64(delay)/2+1))
			delay = min(delay*2, 30*time.Second)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrPublish, ctx.Err())
		case <-time.After(wait):
		}
	}
	return nil, fmt.Errorf("%w: %s: %s", ErrPublish, urlcred.Redact(endpoint), urlcred.RedactText(lastErr.Error()))
}

// body is a reader of u's body, written by a goroutine that ends when the
// body is written or the reader closed (net/http closes it).
func (u *Upload) body() io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		_, err := u.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	return pr
}

// keepTokenAtOrigin returns a copy of c that drops the Authorization (and
// Cookie) header when a redirect leaves the origin of the first request:
// another scheme, host or port. net/http itself forwards them to the same
// host on any port and to its subdomains, which would hand the token to
// whatever else listens there.
func keepTokenAtOrigin(c *http.Client) *http.Client {
	cp := *c
	next := c.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(via[0].URL, req.URL) {
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// port is the URL's port, or its scheme's default.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// Endpoint returns the scans endpoint of server, or an error when server
// is not an http(s) URL. Callers check --server with it before a scan.
func Endpoint(server string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(server))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: server %q is not an http(s) URL", ErrPublish, urlcred.Redact(server))
	}
	return strings.TrimRight(u.String(), "/") + "/api/v1/scans", nil
}

func (c *Client) post(ctx context.Context, httpc *http.Client, endpoint, key string, u *Upload) (*Receipt, time.Duration, error) {
	body := u.body()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		body.Close() // ends its writer
		return nil, 0, &permanentError{err.Error()}
	}
	req.ContentLength = u.Size()
	// A redirect (307, 308) sends the body again.
	req.GetBody = func() (io.ReadCloser, error) { return u.body(), nil }
	req.Header.Set("Content-Type", MediaType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", key)
	if u.Size() > 1<<20 {
		req.Header.Set("Expect", "100-continue")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, 0, fmt.Errorf("reading response: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("server answered %s", resp.Status)
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		return nil, 0, &permanentError{fmt.Sprintf("server answered %s: %s (the payload is %.1f MiB; the server's body size setting decides what it accepts)",
			resp.Status, snippet(data), float64(u.Size())/(1<<20))}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, 0, &permanentError{fmt.Sprintf("server answered %s: %s", resp.Status, snippet(data))}
	}
	var r Receipt
	if err := json.Unmarshal(data, &r); err != nil || r.ID == "" {
		return nil, 0, &permanentError{fmt.Sprintf("server answered %s with an unexpected body: %s", resp.Status, snippet(data))}
	}
	return &r, 0, nil
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, 2*time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), 2*time.Minute)
	}
	return 0
}

// snippet makes a server body safe to show in one line of an error.
func snippet(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, string(b))
	if len(s) > 200 {
		// Cut on a rune boundary so the message stays valid UTF-8.
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}
