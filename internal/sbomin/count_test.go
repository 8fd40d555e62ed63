package sbomin

import (
	"strings"
	"testing"
)

func TestCountElements(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want int
	}{
		{`{"packages": []}`, 0},
		{`{"packages": [{"a": [1, 2]}, {"b": "x,y]"}, 3, "s", null]}`, 5},
		{`{"name": "packages", "x": {"packages": [1, 2]}, "packages": [[1, 2], [3]]}`, 2},
		{`{"a": "\"packages\"", "packages" : [ {} , {} ] , "b": [1]}`, 2},
		{`{"other": [1, 2, 3]}`, 0},
		{`{"packages": [1, 2`, 2},
	} {
		if got := countElements(strings.NewReader(tc.doc), "packages"); got != tc.want {
			t.Errorf("%s: %d elements, want %d", tc.doc, got, tc.want)
		}
	}
}
