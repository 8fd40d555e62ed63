package sbomin

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
)

// countElements counts the elements of the array under the top-level key
// of the JSON object in r, without decoding it: a capacity hint for the
// streaming readers, which then hold a large SBOM's packages in one slice
// sized once (growing it by appending held the old and the new slice
// at once, the peak of a 700,000-package SBOM). Malformed input only gives
// a wrong count; the decoder reports the error.
func countElements(r io.Reader, key string) int {
	var (
		buf      = make([]byte, 64<<10)
		depth    int
		inString bool
		escaped  bool
		str      []byte // the last string at depth 1, a key when ':' follows
		lastKey  string
		inArray  bool // inside the array under key
		expect   bool // the next value starts an element
		count    int
	)
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				case depth == 1 && len(str) <= len(key):
					str = append(str, c)
				}
				continue
			}
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			case ':':
				if depth == 1 {
					lastKey = string(str)
				}
				continue
			case ',':
				expect = inArray && depth == 2
				continue
			case ']', '}':
				expect = false
			}
			if expect {
				count++
				expect = false
			}
			switch c {
			case '"':
				inString, str = true, str[:0]
			case '[', '{':
				if depth == 1 && c == '[' && lastKey == key {
					inArray, expect = true, true
				}
				depth++
			case ']', '}':
				depth--
				if depth == 1 && inArray {
					return count
				}
			}
		}
		if err != nil {
			return count
		}
	}
}

// countLines counts the lines of r that start with prefix (after
// spaces): the packages of an SPDX tag-value document, a capacity hint
// like countElements (a line inside a multi-line text value counts too).
func countLines(r io.Reader, prefix string) int {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	count := 0
	for sc.Scan() {
		if bytes.HasPrefix(bytes.TrimLeft(sc.Bytes(), " \t"), []byte(prefix)) {
			count++
		}
	}
	return count
}

// sizeHint counts the elements under key when r is a file that can be
// read again from its start (ReadFile's), and 0 otherwise. The count is
// capped at the packages ctx allows (plus one, for the error), so a file
// of empty elements cannot make the readers reserve more.
func sizeHint(ctx context.Context, r io.Reader, key string) int {
	return fileHint(ctx, r, func(r io.Reader) int { return countElements(r, key) })
}

// tagValueSizeHint is sizeHint for SPDX tag-value: its PackageName lines.
func tagValueSizeHint(ctx context.Context, r io.Reader) int {
	return fileHint(ctx, r, func(r io.Reader) int { return countLines(r, "PackageName:") })
}

func fileHint(ctx context.Context, r io.Reader, count func(io.Reader) int) int {
	f, ok := r.(interface {
		io.ReaderAt
		Stat() (fs.FileInfo, error)
	})
	if !ok {
		return 0
	}
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return min(count(io.NewSectionReader(f, 0, st.Size())), maxPackages(ctx)+1)
}
