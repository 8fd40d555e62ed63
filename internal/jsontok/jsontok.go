// Package jsontok holds the two token-level steps that Vigil's streaming
// JSON readers (SBOMs, Azure envelopes, published reports on both the
// client and the server) share: skipping a value without keeping it, and
// decoding an array one element at a time, so a large document is never
// held whole.
package jsontok

import (
	"encoding/json"
	"fmt"
)

// SkipValue reads the next JSON value from dec token by token; nothing is
// kept, however large the value.
func SkipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// DecodeArray reads the next value from dec, null or an array, decoding
// its elements one at a time into a new T each. start is called first,
// with whether the value is null; each gets every element with its index.
// name labels errors ("packages[3]: ...").
func DecodeArray[T any](dec *json.Decoder, name string, start func(null bool) error, each func(i int, v T) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return start(true)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s: want an array, got %v", name, tok)
	}
	if err := start(false); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		var v T
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		if err := each(i, v); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing ']'
	return err
}
