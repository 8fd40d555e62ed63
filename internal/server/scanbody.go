package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/jsontok"
	"github.com/vigil-scan/vigil/internal/publish"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// scanBody is a publish payload as the server keeps it: the report's
// small members, the redacted report's JSON to store and the redacted
// findings to apply.
type scanBody struct {
	Version string
	Image   publish.Image
	Trace   publish.Trace
	// Head is the report without packages and findings (nil: no report).
	Head       *result.Report
	ReportJSON string
	Findings   []vuln.Finding
}

// payload is the body as a publish.Payload (for its idempotency key).
func (b *scanBody) payload() publish.Payload {
	return publish.Payload{Version: b.Version, Image: b.Image, Trace: b.Trace, Report: b.Head}
}

// decodeScanBody reads a publish payload from body without holding it or
// its packages: the packages and findings are decoded one at a time,
// their layer references masked (secrets.RedactReport's rule) and
// written to the stored report's JSON as they come; only the findings are
// kept, for the image's evaluation (issue 8 item 8: decoding the whole
// payload, then marshalling the report and copying it to a string, took
// about 8 bytes of memory per byte of body). The stored JSON is
// json.Marshal of the redacted report, except that the packages and
// findings stay in the body's order. A report whose artifact comes after
// its packages or findings (not how vigil writes it) is decoded whole, as
// before. sizeHint (the Content-Length, or 0) sizes the stored JSON.
func decodeScanBody(body io.Reader, sizeHint int64) (*scanBody, error) {
	dec := json.NewDecoder(body)
	if err := wantDelim(dec, '{'); err != nil {
		return nil, err
	}
	var b scanBody
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string)
		lower := strings.ToLower(key)
		if seen[lower] && lower == "report" {
			return nil, errors.New("two report members")
		}
		seen[lower] = true
		var target any
		switch lower {
		case "version":
			target = &b.Version
		case "image":
			target = &b.Image
		case "trace":
			target = &b.Trace
		case "report":
			if err := b.decodeReport(dec, sizeHint); err != nil {
				return nil, err
			}
			continue
		default:
			target = new(json.RawMessage)
		}
		if err := dec.Decode(target); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return &b, nil
}

func wantDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("want %q, got %v", d, tok)
	}
	return nil
}

// reportArrays are the report members streamed.
var reportArrays = []string{"packages", "vulnerabilities"}

func (b *scanBody) decodeReport(dec *json.Decoder, sizeHint int64) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		b.Head, b.ReportJSON, b.Findings = nil, "", nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("report: want an object, got %v", tok)
	}
	var (
		raw      = []byte{'{'} // the members other than the arrays
		seen     = map[string]bool{}
		out      strings.Builder
		prefix   int // bytes of out before the arrays
		streamed bool
		whole    *result.Report // the fallback: arrays kept, decoded whole
		mask     secrets.LayerMasker
		members  int
	)
	layer := mask.Mask
	headOf := func() (*result.Report, error) {
		h := new(result.Report)
		if err := json.Unmarshal(append(raw, '}'), h); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		return h, nil
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		lower := strings.ToLower(key)
		if seen[lower] {
			// encoding/json would merge or replace; the stored report
			// would not say which the findings came from.
			return fmt.Errorf("report: two %q members", key)
		}
		seen[lower] = true
		if lower != "packages" && lower != "vulnerabilities" {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("report: %s: %w", key, err)
			}
			if len(raw) > 1 {
				raw = append(raw, ',')
			}
			kb, _ := json.Marshal(key)
			raw = append(append(append(raw, kb...), ':'), v...)
			continue
		}
		if whole == nil && !streamed {
			if !seen["artifact"] {
				whole = new(result.Report)
			} else {
				h, err := headOf()
				if err != nil {
					return err
				}
				_, mask.Redactor = secrets.RedactConfig(h.Artifact.Config)
				secrets.RedactReport(h)
				pre, _, err := splitReport(h)
				if err != nil {
					return err
				}
				out.Grow(int(min(max(sizeHint, 0), 1<<30)))
				out.Write(pre)
				prefix = out.Len()
				streamed = true
			}
		}
		if whole != nil {
			var target any = &whole.Packages
			if lower == "vulnerabilities" {
				target = &whole.Vulnerabilities
			}
			if err := dec.Decode(target); err != nil {
				return fmt.Errorf("report: %s: %w", key, err)
			}
			continue
		}
		if members > 0 {
			out.WriteByte(',')
		}
		members++
		out.WriteString(`"` + lower + `":`)
		if err := b.streamArray(dec, &out, lower, layer); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	head, err := headOf()
	if err != nil {
		return err
	}
	if whole != nil {
		head.Packages, head.Vulnerabilities = whole.Packages, whole.Vulnerabilities
		secrets.RedactReport(head)
		js, err := json.Marshal(head)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		b.Findings = head.Vulnerabilities
		head.Packages, head.Vulnerabilities = nil, nil
		b.Head, b.ReportJSON = head, string(js)
		return nil
	}
	for _, a := range reportArrays {
		if !seen[a] {
			if members > 0 {
				out.WriteByte(',')
			}
			members++
			out.WriteString(`"` + a + `":null`)
		}
	}
	if !streamed {
		// No packages or findings member: all is in the head.
		head.Packages, head.Vulnerabilities = nil, nil
	}
	secrets.RedactReport(head)
	head.Packages, head.Vulnerabilities = nil, nil
	pre, suf, err := splitReport(head)
	if err != nil {
		return err
	}
	js := out.String()
	if !streamed {
		js = string(pre) + js + string(suf)
	} else if js[:prefix] != string(pre) {
		// A member marshalled before the packages (schema_version, tool,
		// created_at) came after them in the body.
		js = string(pre) + js[prefix:] + string(suf)
	} else {
		out.Write(suf)
		js = out.String()
	}
	b.Head, b.ReportJSON = head, js
	return nil
}

// splitReport marshals h (packages and findings nil) and returns what
// comes before and after where they go.
func splitReport(h *result.Report) (pre, suf []byte, err error) {
	c := *h
	c.Packages, c.Vulnerabilities = nil, nil
	js, err := json.Marshal(&c)
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	pre, suf, ok := result.SplitAroundLists(js)
	if !ok {
		return nil, nil, errors.New("report: cannot place packages and vulnerabilities")
	}
	return pre, suf, nil
}

// streamArray copies the array (or null) of packages or findings from dec
// to out, each element decoded, its layer masked and marshalled alone;
// findings are kept.
func (b *scanBody) streamArray(dec *json.Decoder, out *strings.Builder, key string, layer func(*inventory.LayerRef) *inventory.LayerRef) error {
	start := func(null bool) error {
		if null {
			out.WriteString("null")
		} else {
			out.WriteByte('[')
		}
		return nil
	}
	put := func(i int, v any) error {
		js, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(js)
		return nil
	}
	var err error
	closed := false
	if key == "packages" {
		err = jsontok.DecodeArray(dec, key, func(null bool) error { closed = null; return start(null) }, func(i int, p inventory.Package) error {
			p.Layer = layer(p.Layer)
			return put(i, &p)
		})
	} else {
		err = jsontok.DecodeArray(dec, key, func(null bool) error { closed = null; return start(null) }, func(i int, f vuln.Finding) error {
			f.Layer = layer(f.Layer)
			b.Findings = append(b.Findings, f)
			return put(i, &b.Findings[len(b.Findings)-1])
		})
	}
	if err != nil {
		return err
	}
	if !closed {
		out.WriteByte(']')
	}
	return nil
}
