package publish

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/jsontok"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// MaxReportFile bounds a report file `vigil publish` reads. The file is
// streamed (memory does not grow with it), so the bound is on time: each
// attempt decodes it again. Servers accept 16 MiB by default.
const MaxReportFile = 512 << 20

// maxReportHead bounds what a report file holds besides its packages and
// findings (artifact, checks, secrets, summary...), which is kept in memory.
const maxReportHead = 32 << 20

// ErrNotReport is returned for a file that is not a Vigil JSON report.
var ErrNotReport = errors.New("not a Vigil JSON report")

// OpenReport checks the Vigil JSON report at path by streaming it once (a
// JSON object with schema_version and artifact.name whose every member
// decodes as the report's types, nothing after it) and returns its upload,
// which reads the file again for every attempt. Only the report's head is
// kept; nothing is sent for a file that fails the check.
func OpenReport(path string, t Trace) (*Upload, error) {
	f, err := openReportFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head, countedArrays, counted, err := scanReport(f, path)
	if err != nil {
		return nil, err
	}
	u, red, err := newUpload(head, t)
	if err != nil {
		return nil, err
	}
	u.arrays = func(w io.Writer) error { return streamReportArrays(path, w, red) }
	if !counted {
		// The artifact came after the packages or findings: their masked
		// size is known only now.
		cw := &countWriter{w: io.Discard}
		if err := u.arrays(cw); err != nil {
			return nil, err
		}
		countedArrays = cw.n
	}
	u.size = int64(len(u.prefix)+len(u.suffix)) + countedArrays
	return u, nil
}

func openReportFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening report: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening report: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxReportFile {
		f.Close()
		return nil, fmt.Errorf("%s: larger than %d MiB; not read", path, MaxReportFile>>20)
	}
	return f, nil
}

// arrayKey is the report member f names when it is one of the streamed
// arrays ("packages" or "vulnerabilities"), matched as encoding/json
// matches struct fields (case-insensitively), or "".
func arrayKey(k string) string {
	for _, a := range []string{"packages", "vulnerabilities"} {
		if strings.EqualFold(k, a) {
			return a
		}
	}
	return ""
}

// scanReport reads the report once: it keeps every member but the
// packages and findings (the head), decodes each package and finding to
// check it, and, when the artifact came first (as Vigil writes it), counts
// the bytes the masked arrays take in the payload.
func scanReport(f io.Reader, path string) (head *result.Report, arraysLen int64, counted bool, err error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s: %w: %s", path, ErrNotReport, fmt.Sprintf(format, a...))
	}
	lr := &io.LimitedReader{R: f, N: MaxReportFile + 1}
	dec := json.NewDecoder(bufio.NewReaderSize(lr, 64<<10))
	wrap := func(err error) error {
		if lr.N <= 0 {
			return fmt.Errorf("%s: larger than %d MiB; not read", path, MaxReportFile>>20)
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return bad("%v (truncated or malformed JSON?)", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, 0, false, wrap(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, 0, false, bad("the file is not a JSON object; write one with --format json")
	}
	var (
		raw  = []byte{'{'}
		red  *secrets.Redactor
		seen = map[string]bool{}
		cw   = &countWriter{w: io.Discard}
		aw   = newArrayWriter(cw, nil)
		// exact: the count holds, every array having been masked with
		// the redactor of the one artifact, read before it.
		exact     = true
		arrays    bool
		artifacts int
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, 0, false, wrap(err)
		}
		key := tok.(string)
		if a := arrayKey(key); a != "" {
			if seen[a] {
				return nil, 0, false, bad("two %q members", a)
			}
			seen[a] = true
			arrays = true
			if red == nil {
				exact = false
			}
			aw.mask.Redactor = red
			if err := streamArray(dec, aw, a); err != nil {
				return nil, 0, false, wrap(err)
			}
			continue
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, 0, false, wrap(err)
		}
		if strings.EqualFold(key, "artifact") {
			var a struct {
				Artifact inventory.Artifact `json:"artifact"`
			}
			if err := json.Unmarshal(append(append([]byte(`{"artifact":`), v...), '}'), &a); err != nil {
				return nil, 0, false, bad("artifact: %v", err)
			}
			_, red = secrets.RedactConfig(a.Artifact.Config)
			if artifacts++; arrays || artifacts > 1 {
				exact = false // masked with another artifact's redactor, or merged
			}
		}
		if len(raw) > 1 {
			raw = append(raw, ',')
		}
		kb, _ := json.Marshal(key)
		raw = append(append(append(raw, kb...), ':'), v...)
		if len(raw) > maxReportHead {
			return nil, 0, false, bad("its members other than packages and vulnerabilities take more than %d MiB", maxReportHead>>20)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, 0, false, wrap(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if lr.N <= 0 {
			return nil, 0, false, wrap(err)
		}
		return nil, 0, false, bad("data after the report's JSON object")
	}
	head = new(result.Report)
	if err := json.Unmarshal(append(raw, '}'), head); err != nil {
		return nil, 0, false, bad("%v", err)
	}
	if head.SchemaVersion == "" || head.Artifact.Name == "" {
		return nil, 0, false, fmt.Errorf("%s is not a Vigil JSON report (no schema_version or artifact); write one with --format json", path)
	}
	// The missing arrays are sent as null, as a report without them
	// decodes and marshals.
	for _, a := range []string{"packages", "vulnerabilities"} {
		if !seen[a] {
			aw.null(a)
		}
	}
	return head, cw.n, exact, nil
}

// streamArray reads the value of the member key from dec, null or an
// array of packages or findings, and writes it to aw element by element.
func streamArray(dec *json.Decoder, aw *arrayWriter, key string) error {
	null := false
	start := func(isNull bool) error {
		if null = isNull; null {
			return aw.null(key)
		}
		aw.open(key)
		return nil
	}
	var err error
	if key == "packages" {
		err = jsontok.DecodeArray(dec, key, start, func(_ int, p inventory.Package) error { return aw.putPackage(p) })
	} else {
		err = jsontok.DecodeArray(dec, key, start, func(_ int, f vuln.Finding) error { return aw.putFinding(f) })
	}
	if err != nil || null {
		return err
	}
	return aw.close()
}

// streamReportArrays writes the packages and findings of the report file
// at path to w, masked with red, in the file's order (a missing one as
// null). It runs once per attempt.
func streamReportArrays(path string, w io.Writer, red *secrets.Redactor) error {
	f, err := openReportFile(path)
	if err != nil {
		return fmt.Errorf("%w: %v", errReportChanged, err)
	}
	defer f.Close()
	changed := func(err error) error { return fmt.Errorf("%w: %s: %v", errReportChanged, path, err) }
	dec := json.NewDecoder(bufio.NewReaderSize(&io.LimitedReader{R: f, N: MaxReportFile}, 64<<10))
	if _, err := dec.Token(); err != nil {
		return changed(err)
	}
	aw := newArrayWriter(w, red)
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return changed(err)
		}
		key, _ := tok.(string)
		if a := arrayKey(key); a != "" && !seen[a] {
			seen[a] = true
			if err := streamArray(dec, aw, a); err != nil {
				if aw.err != nil {
					return aw.err // the connection, not the file
				}
				return changed(err)
			}
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return changed(err)
		}
	}
	for _, a := range []string{"packages", "vulnerabilities"} {
		if !seen[a] {
			aw.null(a)
		}
	}
	return aw.err
}
