package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/vigil-scan/vigil/internal/result"
)

// writeReportJSON writes r as encodeIndented(w, r, "  ") would, byte for
// byte, but marshals the packages and findings one at a time: marshalling
// the whole report of an SBOM of 190,000 packages held the compact and the
// indented copies (and the buffers they grew through) at once, which was
// the peak of `vigil sbom-scan --format json` (issue 8 item 8).
func writeReportJSON(w io.Writer, r *result.Report) error {
	head := *r
	head.Packages, head.Vulnerabilities = nil, nil
	compact, err := json.Marshal(&head)
	if err != nil {
		return err
	}
	front, back, ok := result.SplitAroundLists(compact)
	if !ok {
		return fmt.Errorf("report JSON: no top-level packages and vulnerabilities")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	in := indenter{indent: "  "}
	var buf []byte
	put := func(src []byte) error {
		buf = in.append(buf[:0], src)
		_, err := bw.Write(buf)
		return err
	}
	if err := put(front); err != nil {
		return err
	}
	if err := putArray(put, `"packages":`, r.Packages); err != nil {
		return err
	}
	if err := putArray(put, `,"vulnerabilities":`, r.Vulnerabilities); err != nil {
		return err
	}
	if err := put(back); err != nil {
		return err
	}
	if err := bw.WriteByte('\n'); err != nil {
		return err
	}
	return bw.Flush()
}

// putArray writes key and the elements of s, each marshalled alone
// (through a pointer, as encoding/json does for addressable elements).
func putArray[T any](put func([]byte) error, key string, s []T) error {
	if s == nil {
		return put([]byte(key + "null"))
	}
	if err := put([]byte(key + "[")); err != nil {
		return err
	}
	for i := range s {
		b, err := json.Marshal(&s[i])
		if err != nil {
			return err
		}
		if i > 0 {
			b = append([]byte{','}, b...)
		}
		if err := put(b); err != nil {
			return err
		}
	}
	return put([]byte("]"))
}
