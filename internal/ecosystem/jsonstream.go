package ecosystem

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ExpectDelim reads the next token of a JSON document that a feed parser
// streams with dec, and fails unless it is want ('{' or '['). Input that
// ends before the token is "empty input" at the start of the document and
// io.ErrUnexpectedEOF inside it.
func ExpectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		if dec.InputOffset() == 0 {
			return errors.New("empty input")
		}
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, got %v", string(want), tok)
	}
	return nil
}
