package publish

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Upload is one publish: the payload's small part in memory, its packages
// and findings written anew for every attempt. Neither the client nor its
// retries hold the payload's encoding, and a report read from a file is
// never held whole (issue 8 item 8: a report near the client's 512 MiB cap
// cost gigabytes when it was decoded and re-encoded in memory). The bytes
// written are those of json.Marshal(NewPayload(report, trace)) for a report
// in memory and for a file whose members are in Vigil's order (any other
// order gives the same JSON object with packages and findings where the
// file had them).
type Upload struct {
	// Image and Trace are the payload's; head is the report without its
	// packages and findings, redacted as NewPayload redacts it.
	Image Image
	Trace Trace
	head  *result.Report
	// prefix is the payload up to where the packages and findings go,
	// suffix the rest.
	prefix, suffix []byte
	// size is the length of the body (Content-Length).
	size int64
	// arrays writes the `"packages":…,"vulnerabilities":…` members.
	arrays func(w io.Writer) error
}

// Size is the length of the body in bytes.
func (u *Upload) Size() int64 { return u.size }

// IdempotencyKey is the payload's (see Payload.IdempotencyKey).
func (u *Upload) IdempotencyKey() string {
	return Payload{Image: u.Image, Trace: u.Trace, Report: u.head}.IdempotencyKey()
}

// WriteTo writes the whole body.
func (u *Upload) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	bw.Write(u.prefix)
	if err := u.arrays(bw); err != nil {
		return cw.n, err
	}
	bw.Write(u.suffix)
	err := bw.Flush()
	return cw.n, err
}

// NewUpload is the upload of a report in memory (`vigil image --publish`).
// r is not modified; its packages and findings are copied one at a time as
// they are written.
func NewUpload(r *result.Report, t Trace) (*Upload, error) {
	u, red, err := newUpload(r, t)
	if err != nil {
		return nil, err
	}
	u.arrays = func(w io.Writer) error {
		aw := newArrayWriter(w, red)
		if err := putSlice(aw, "packages", r.Packages, (*arrayWriter).putPackage); err != nil {
			return err
		}
		return putSlice(aw, "vulnerabilities", r.Vulnerabilities, (*arrayWriter).putFinding)
	}
	cw := &countWriter{w: io.Discard}
	if err := u.arrays(cw); err != nil {
		return nil, err
	}
	u.size = int64(len(u.prefix)+len(u.suffix)) + cw.n
	return u, nil
}

func putSlice[T any](aw *arrayWriter, key string, s []T, put func(*arrayWriter, T) error) error {
	if s == nil {
		return aw.null(key)
	}
	aw.open(key)
	for _, v := range s {
		if err := put(aw, v); err != nil {
			return err
		}
	}
	return aw.close()
}

// newUpload splits the payload of r around its packages and findings; it
// redacts the head (r is not modified) and returns the redactor of r's
// config for the layers of the packages and findings.
func newUpload(r *result.Report, t Trace) (*Upload, *secrets.Redactor, error) {
	_, red := secrets.RedactConfig(r.Artifact.Config)
	head := *r
	head.Packages, head.Vulnerabilities = nil, nil
	secrets.RedactReport(&head)
	head.Packages, head.Vulnerabilities = nil, nil
	u := &Upload{
		Image: Image{Name: head.Artifact.Name, Digest: head.Artifact.Digest, ImageID: head.Artifact.ImageID},
		Trace: t,
		head:  &head,
	}
	outer, err := json.Marshal(Payload{Version: WireVersion, Image: u.Image, Trace: t})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: encoding payload: %v", ErrPublish, err)
	}
	const tail = `"report":null}`
	if !bytes.HasSuffix(outer, []byte(tail)) {
		return nil, nil, fmt.Errorf("%w: encoding payload: report is not the last member", ErrPublish)
	}
	rep, err := json.Marshal(&head)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: encoding payload: %v", ErrPublish, err)
	}
	repHead, repTail, ok := result.SplitAroundLists(rep)
	if !ok {
		return nil, nil, fmt.Errorf("%w: encoding payload: no top-level packages and vulnerabilities", ErrPublish)
	}
	u.prefix = append(outer[:len(outer)-len(tail)+len(`"report":`)], repHead...)
	u.suffix = append(repTail, '}')
	return u, red, nil
}

// arrayWriter writes the packages and findings members, each element
// marshalled alone with its layer's created_by masked as RedactReport
// masks it.
type arrayWriter struct {
	w       io.Writer
	mask    secrets.LayerMasker
	members int // written so far
	elems   int // of the open array
	err     error
}

func newArrayWriter(w io.Writer, red *secrets.Redactor) *arrayWriter {
	return &arrayWriter{w: w, mask: secrets.LayerMasker{Redactor: red}}
}

func (a *arrayWriter) write(s string) {
	if a.err == nil {
		_, a.err = io.WriteString(a.w, s)
	}
}

func (a *arrayWriter) member(key string) {
	if a.members > 0 {
		a.write(",")
	}
	a.members++
	a.write(`"` + key + `":`)
}

func (a *arrayWriter) null(key string) error {
	a.member(key)
	a.write("null")
	return a.err
}

func (a *arrayWriter) open(key string) {
	a.member(key)
	a.write("[")
	a.elems = 0
}

func (a *arrayWriter) close() error {
	a.write("]")
	return a.err
}

func (a *arrayWriter) put(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: encoding payload: %v", ErrPublish, err)
	}
	if a.elems > 0 {
		a.write(",")
	}
	a.elems++
	if a.err == nil {
		_, a.err = a.w.Write(b)
	}
	return a.err
}

func (a *arrayWriter) putPackage(p inventory.Package) error {
	p.Layer = a.mask.Mask(p.Layer)
	return a.put(&p)
}

func (a *arrayWriter) putFinding(f vuln.Finding) error {
	f.Layer = a.mask.Mask(f.Layer)
	return a.put(&f)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// errReportChanged marks a report file that no longer reads as it did
// when it was checked: the upload stops and is not retried.
var errReportChanged = errors.New("the report file changed while it was being published")
