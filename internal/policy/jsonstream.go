package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonStream reads one JSON document value by value with json.Decoder's
// token API, so a large document (a 64 MiB VEX) is never held whole in
// memory: arrays are decoded one element at a time into small structs that
// keep only the fields used. Errors carry "file:line:col" like jsonError's:
// type errors are placed from the element's offset; syntax errors (which
// the Decoder cannot place once tokens were read) are placed by checking
// the file again from its start, on the error path only.
type jsonStream struct {
	path string
	src  io.ReadSeeker
	lim  *io.LimitedReader
	max  int64
	dec  *json.Decoder
}

func newJSONStream(path string, src io.ReadSeeker, max int64) *jsonStream {
	lim := &io.LimitedReader{R: src, N: max + 1}
	return &jsonStream{path: path, src: src, lim: lim, max: max, dec: json.NewDecoder(lim)}
}

// tooLarge reports whether more than max bytes were read.
func (s *jsonStream) tooLarge() bool { return s.lim.N <= 0 }

func (s *jsonStream) sizeError() error {
	return fmt.Errorf("%s: larger than %d MiB", s.path, s.max>>20)
}

// readError turns an error of the Decoder itself (syntax, truncation, I/O)
// into one with a position.
func (s *jsonStream) readError(err error) error {
	if s.tooLarge() {
		return s.sizeError()
	}
	var syn *json.SyntaxError
	if !errors.As(err, &syn) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading %s: %w", s.path, err)
	}
	// Place it: json.Valid-style checking of the whole input, bounded by
	// max, gives the exact offset (and the message json.Unmarshal gives).
	if _, serr := s.src.Seek(0, io.SeekStart); serr == nil {
		if data, rerr := io.ReadAll(io.LimitReader(s.src, s.max)); rerr == nil {
			var raw json.RawMessage
			if uerr := json.Unmarshal(data, &raw); uerr != nil {
				return jsonError(s.path, data, uerr)
			}
		}
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s: %w", s.path, err)
}

// errAt is err at byte offset off (0-based), as "file:line:col: err".
func (s *jsonStream) errAt(off int64, err error) error {
	line, col, ok := s.position(off)
	if !ok {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	return fmt.Errorf("%s:%d:%d: %w", s.path, line, col, err)
}

// position counts lines up to off by reading the input again.
func (s *jsonStream) position(off int64) (line, col int, ok bool) {
	if off < 0 {
		return 0, 0, false
	}
	if _, err := s.src.Seek(0, io.SeekStart); err != nil {
		return 0, 0, false
	}
	buf := make([]byte, 64<<10)
	line, col = 1, 1
	r := io.LimitReader(s.src, off)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		if err != nil {
			return line, col, true
		}
	}
}

// kindOf names a token's JSON type for "got JSON X" messages.
func kindOf(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "number"
}

// open reads the token that starts a value and checks it is want ('{' or
// '['); null is accepted as empty (false is returned).
func (s *jsonStream) open(field string, want json.Delim) (bool, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return false, s.readError(err)
	}
	if tok == nil {
		return false, nil
	}
	if d, ok := tok.(json.Delim); ok && d == want {
		return true, nil
	}
	wantName := "an object"
	if want == '[' {
		wantName = "an array"
	}
	msg := fmt.Errorf("got JSON %s, want %s", kindOf(tok), wantName)
	if field != "" {
		msg = fmt.Errorf("%s: %w", field, msg)
	}
	// Where json.Unmarshal would say: the token's last byte.
	return false, s.errAt(s.dec.InputOffset()-1, msg)
}

// close reads the '}' or ']' that ends the current object or array.
func (s *jsonStream) close() error {
	if _, err := s.dec.Token(); err != nil {
		return s.readError(err)
	}
	return nil
}

// object calls fn with each key of the object that is the next value;
// fn must consume the key's value (decode, array, object or skip).
func (s *jsonStream) object(field string, fn func(key string) error) error {
	ok, err := s.open(field, '{')
	if err != nil || !ok {
		return err
	}
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return s.readError(err)
		}
		key, _ := tok.(string)
		if err := fn(key); err != nil {
			return err
		}
	}
	return s.close()
}

// array calls fn for each element of the array that is the next value; fn
// must consume the element (usually with decode).
func (s *jsonStream) array(field string, fn func(i int) error) error {
	ok, err := s.open(field, '[')
	if err != nil || !ok {
		return err
	}
	for i := 0; s.dec.More(); i++ {
		if err := fn(i); err != nil {
			return err
		}
	}
	return s.close()
}

// decode decodes the next value into v. A type error names field (the
// value's path; index >= 0 is appended) and is placed in the file.
func (s *jsonStream) decode(field string, index int, v any) error {
	// Decode decodes from just after the ',' or ':' that precedes the value
	// (skipping white space to it first), and type errors count from there.
	s.dec.More()
	start := s.dec.InputOffset()
	// valueAt is where the value itself starts (past white space), as far
	// as the Decoder's buffer shows.
	valueAt := start
	if rest, ok := s.dec.Buffered().(*bytes.Reader); ok && rest.Len() > 0 {
		if c, _ := rest.ReadByte(); c == ',' || c == ':' {
			start, valueAt = start+1, valueAt+1
		} else {
			rest.UnreadByte()
		}
		for rest.Len() > 0 {
			if c, _ := rest.ReadByte(); c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				break
			}
			valueAt++
		}
	}
	err := s.dec.Decode(v)
	if err == nil {
		return nil
	}
	if index >= 0 {
		field = fmt.Sprintf("%s.%d", field, index)
	}
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	var inner nestedError
	switch {
	case errors.As(err, &inner):
		// Offsets count from a value inside this one: the error is placed
		// at this value's start.
		return s.errAt(valueAt, fmt.Errorf("%s: %w", field, inner.describe()))
	case errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return s.readError(err)
	case !errors.As(err, &typ):
		// A value a type's UnmarshalJSON refused (a CycloneDX specVersion).
		return s.errAt(valueAt, fmt.Errorf("%s: %w", field, err))
	}
	if typ.Field != "" {
		field = strings.TrimPrefix(field+"."+typ.Field, ".")
	}
	msg := fmt.Errorf("got JSON %s, want %s", typ.Value, jsonKind(typ.Type))
	if field != "" {
		msg = fmt.Errorf("%s: %w", field, msg)
	}
	return s.errAt(start+typ.Offset-1, msg)
}

// skip consumes the next value without keeping it.
func (s *jsonStream) skip() error {
	depth := 0
	for {
		tok, err := s.dec.Token()
		if err != nil {
			return s.readError(err)
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// end checks that nothing but white space follows the document.
func (s *jsonStream) end() error {
	if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = &json.SyntaxError{}
		}
		return s.readError(err)
	}
	if s.tooLarge() {
		return s.sizeError()
	}
	return nil
}

// nestedError is an error of json.Unmarshal called by a type's own
// UnmarshalJSON: its offsets count from that value, which the outer decoder
// does not say where it is.
type nestedError struct{ err error }

func (e nestedError) Error() string { return e.err.Error() }
func (e nestedError) Unwrap() error { return e.err }

func nested(err error) error {
	if err == nil {
		return nil
	}
	var n nestedError
	if errors.As(err, &n) {
		return err
	}
	return nestedError{err}
}

// describe says what is wrong without the (meaningless) offset.
func (e nestedError) describe() error {
	var typ *json.UnmarshalTypeError
	if !errors.As(e.err, &typ) {
		return e.err
	}
	msg := fmt.Errorf("got JSON %s, want %s", typ.Value, jsonKind(typ.Type))
	if typ.Field != "" {
		msg = fmt.Errorf("%s: %w", typ.Field, msg)
	}
	return msg
}
