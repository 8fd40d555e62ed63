package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// encodeIndented must match json.Encoder's indented output byte for byte.
func TestEncodeIndentedMatchesEncoder(t *testing.T) {
	values := []any{
		map[string]any{"a": []any{}, "b": map[string]any{}, "c": []any{1, "x\"y\\z", nil, true, map[string]any{"d": 1.5e300}}},
		[]any{"<html>&", "\u2028", "tab\there", "", "\\", "\\\""},
		"plain", 42, nil, []any{[]any{[]any{}}},
	}
	for _, v := range values {
		checkIndent(t, v)
	}
}

func checkIndent(t *testing.T, v any) {
	t.Helper()
	var want, got bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := encodeIndented(&got, v, "  "); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
	}
}

// FuzzEncodeIndented checks arbitrary JSON documents: decoded, then
// encoded both ways.
func FuzzEncodeIndented(f *testing.F) {
	f.Add(`{"a":[1,2,{"b":"c\"d"}],"e":{},"f":[]}`)
	f.Add(`["\\", "\u0000", "<>&"]`)
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		checkIndent(t, v)
	})
}
