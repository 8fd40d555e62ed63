package report

import (
	"bytes"
	"encoding/json"
	"io"
)

// encodeIndented writes v as json.Encoder with SetIndent("", indent) would
// (HTML-escaped, trailing newline), byte for byte, in a fraction of the
// time: encoding/json indents by re-running its validating scanner over
// the marshalled bytes, which was a third of a cached `vigil sbom` of a few
// thousand packages. Marshalled output is valid compact JSON, so a plain
// loop that only tracks strings is enough.
func encodeIndented(w io.Writer, v any, indent string) error {
	compact, err := json.Marshal(v)
	if err != nil {
		return err
	}
	out := appendIndented(make([]byte, 0, len(compact)+len(compact)/2), compact, indent)
	_, err = w.Write(append(out, '\n'))
	return err
}

// appendIndented appends src, compact JSON, indented like json.Indent with
// an empty prefix.
func appendIndented(dst, src []byte, indent string) []byte {
	in := indenter{indent: indent}
	return in.append(dst, src)
}

// indenter indents compact JSON fed to it in pieces, each ending between
// tokens (never inside a string), so a large value can be written one
// element at a time (writeReportJSON).
type indenter struct {
	indent string
	depth  int
	open   bool // after '{' or '[': the newline waits until the value is known not to be empty
}

func (in *indenter) append(dst, src []byte) []byte {
	newline := func() {
		dst = append(dst, '\n')
		for range in.depth {
			dst = append(dst, in.indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if in.open && c != '}' && c != ']' {
			in.open = false
			in.depth++
			newline()
		}
		switch c {
		case '"':
			// Copy the string through its closing quote.
			j := i + 1
			for j < len(src) {
				k := bytes.IndexAny(src[j:], `"\`)
				if k < 0 {
					j = len(src)
					break
				}
				j += k
				if src[j] == '\\' {
					j += 2
					continue
				}
				break
			}
			end := min(j+1, len(src))
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			in.open = true
		case '}', ']':
			if in.open {
				in.open = false
			} else {
				in.depth--
				newline()
			}
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
