package jsontok

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSkipValue(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"a":[1,{"b":"]"}],"c":2} "next"`))
	if err := SkipValue(dec); err != nil {
		t.Fatal(err)
	}
	var next string
	if err := dec.Decode(&next); err != nil || next != "next" {
		t.Fatalf("after the skipped value: %q, %v", next, err)
	}
	for _, bad := range []string{`{"a":[1,2}`, `[1,2`, `{"a":`} {
		if err := SkipValue(json.NewDecoder(strings.NewReader(bad))); err == nil {
			t.Errorf("SkipValue(%s): no error", bad)
		}
	}
}

func TestDecodeArray(t *testing.T) {
	type item struct{ N int }
	run := func(doc string) (null bool, got []int, err error) {
		err = DecodeArray(json.NewDecoder(strings.NewReader(doc)), "items",
			func(isNull bool) error { null = isNull; return nil },
			func(i int, v item) error { got = append(got, v.N); return nil })
		return null, got, err
	}
	if null, got, err := run(`[{"N":1},{"N":2}]`); err != nil || null || len(got) != 2 || got[1] != 2 {
		t.Fatalf("array: null=%v got=%v err=%v", null, got, err)
	}
	if null, got, err := run(`null`); err != nil || !null || got != nil {
		t.Fatalf("null: null=%v got=%v err=%v", null, got, err)
	}
	for doc, want := range map[string]string{
		`{"N":1}`:             "items: want an array",
		`[{"N":1},{"N":"x"}]`: "items[1]:",
		`[{"N":1}`:            "EOF",
	} {
		if _, _, err := run(doc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", doc, err, want)
		}
	}
}
