package ecosystem

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestExpectDelim(t *testing.T) {
	for _, tt := range []struct {
		doc     string
		want    json.Delim
		wantErr string
	}{
		{doc: `{}`, want: '{'},
		{doc: ` [1]`, want: '['},
		{doc: ``, want: '{', wantErr: "empty input"},
		{doc: `[1]`, want: '{', wantErr: `expected "{", got [`},
		{doc: `"x"`, want: '{', wantErr: `expected "{", got x`},
		{doc: `{"a":`, want: '{', wantErr: ""},
		{doc: `{]`, want: '{', wantErr: ""},
	} {
		err := ExpectDelim(json.NewDecoder(strings.NewReader(tt.doc)), tt.want)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: err = %v, want %q", tt.doc, err, tt.wantErr)
		}
	}
	// Input ending inside the document is an unexpected end, not "empty".
	dec := json.NewDecoder(strings.NewReader(`{"a":`))
	if err := ExpectDelim(dec, '{'); err != nil {
		t.Fatal(err)
	}
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	if err := ExpectDelim(dec, '{'); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("err = %v, want unexpected EOF", err)
	}
}
