package sbomin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// An SBOM with more packages than allowed is refused, streamed or read
// whole, in every format, and the error says so; at the limit it is read.
func TestMaxPackages(t *testing.T) {
	for _, name := range []string{"trivy-alpine.cdx.json", "syft-debian.cdx.json", "syft-rpm.spdx.json", "trivy-debian.spdx.json", "minimal.cdx.xml", "minimal.spdx"} {
		path := filepath.Join("testdata", name)
		inv, err := ReadFile(context.Background(), path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := len(inv.Packages)
		if n < 2 {
			t.Fatalf("%s: %d packages", name, n)
		}
		if _, err := ReadFile(WithMaxPackages(context.Background(), n), path); err != nil {
			t.Errorf("%s at its %d packages: %v", name, n, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ctx := WithMaxPackages(context.Background(), n-1)
		_, err = ReadFile(ctx, path)
		if !errors.Is(err, ErrTooManyPackages) || !strings.Contains(err.Error(), fmt.Sprintf("more than %d packages", n-1)) {
			t.Errorf("%s streamed, limit %d: %v", name, n-1, err)
		}
		if _, err := Read(ctx, bytes.NewReader(b)); !errors.Is(err, ErrTooManyPackages) {
			t.Errorf("%s whole, limit %d: %v", name, n-1, err)
		}
	}
	// Vigil's own JSON.
	var buf bytes.Buffer
	inv, err := ReadFile(context.Background(), filepath.Join("testdata", "trivy-alpine.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewEncoder(&buf).Encode(map[string]any{"schema_version": "1.0.0", "tool": map[string]string{"name": "vigil"}, "packages": inv.Packages}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inv.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := WithMaxPackages(context.Background(), len(inv.Packages)-1)
	if _, err := ReadFile(ctx, path); !errors.Is(err, ErrTooManyPackages) {
		t.Errorf("Vigil JSON streamed: %v", err)
	}
	if _, err := Read(ctx, bytes.NewReader(buf.Bytes())); !errors.Is(err, ErrTooManyPackages) {
		t.Errorf("Vigil JSON whole: %v", err)
	}
}

// countElements agrees with encoding/json on the length of the top-level
// "packages" array (a Vigil JSON SBOM is refused on it before reading).
func FuzzCountElements(f *testing.F) {
	for _, s := range []string{`{"packages": [{"a": [1, 2]}, {"b": "x,y]"}, 3, "s", null]}`, `{"a": "\"packages\"", "packages" : [ {} , {} ] , "b": [1]}`, `{"packages":[]}`, `{"x":{"y":[1]},"packages":[[],{},"]",1.5e3,true]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		// Duplicate or escaped keys: encoding/json's last-wins and
		// unescaping are the decoder's business, not the count's.
		if strings.Count(doc, `"packages"`) != 1 || strings.Contains(doc, `\u`) {
			return
		}
		var top map[string]json.RawMessage
		if json.Unmarshal([]byte(doc), &top) != nil {
			return
		}
		var arr []json.RawMessage
		if json.Unmarshal(top["packages"], &arr) != nil || arr == nil {
			return
		}
		if got := countElements(strings.NewReader(doc), "packages"); got != len(arr) {
			t.Errorf("%d elements, encoding/json says %d", got, len(arr))
		}
	})
}
