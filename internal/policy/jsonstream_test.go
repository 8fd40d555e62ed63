package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

// The streaming reader places errors deep in a document as json.Unmarshal
// of the whole file did: file:line:col of the offending byte.
func TestVEXStreamErrors(t *testing.T) {
	const head = "{\n  \"@context\": \"https://openvex.dev/ns/v0.2.0\",\n  \"statements\": [\n"
	stmt := func(i int) string {
		return fmt.Sprintf(`    {"vulnerability": {"name": "CVE-2024-%d"}, "products": [{"@id": "pkg:apk/alpine/p%d@1"}], "status": "fixed"}`, i, i)
	}
	var full strings.Builder
	full.WriteString(head)
	for i := range 3 {
		if i > 0 {
			full.WriteString(",\n")
		}
		full.WriteString(stmt(i))
	}
	full.WriteString("\n  ]\n}\n")
	doc := full.String()
	tests := []struct {
		name, doc, want string
	}{
		// Truncation is reported at the last byte read, as json.Unmarshal does.
		{"truncated in a statement", doc[:len(head)+len(stmt(0))+20], "v.json:5:18: unexpected end of JSON input"},
		{"truncated after a statement", doc[:len(head)+len(stmt(0))+2], "v.json:4:112: unexpected end of JSON input"},
		{"truncated at the end", strings.TrimSuffix(doc, "}\n"), "v.json:7:4: unexpected end of JSON input"},
		{"syntax error in the middle", strings.Replace(doc, `"CVE-2024-1"}`, `"CVE-2024-1"]`, 1), "v.json:5:44: invalid character ']'"},
		{"missing comma", strings.Replace(doc, "},\n    {\"vulnerability\": {\"name\": \"CVE-2024-2\"", "}\n    {\"vulnerability\": {\"name\": \"CVE-2024-2\"", 1), "v.json:6:5: invalid character '{' after array element"},
		{"data after the document", doc + "{}", "v.json:9:1: invalid character '{' after top-level value"},
		{"two documents", doc + doc, "v.json:9:1: invalid character '{' after top-level value"},
		{"string at top level", `"x"`, "v.json:1:3: got JSON string, want an object"},
		{"statements is a string", `{"statements": "x"}`, "v.json:1:18: statements: got JSON string, want an array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseVEX("v.json", []byte(tc.doc))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v\nwant prefix %q", err, tc.want)
			}
		})
	}
	if stmts, err := parseVEX("v.json", []byte(doc)); err != nil || len(stmts) != 3 {
		t.Errorf("%d statements, %v", len(stmts), err)
	}
	// Type errors in a statement's fields are placed where json.Unmarshal
	// of the whole document places them.
	for _, bad := range []string{
		strings.Replace(doc, `"status": "fixed"}`, `"status": 7}`, 1),
		strings.Replace(doc, `"products": [{"@id": "pkg:apk/alpine/p2@1"}]`, `"products": {"@id": 1}`, 1),
	} {
		var whole struct {
			Statements []openVEXStatement `json:"statements"`
		}
		werr := jsonError("v.json", []byte(bad), json.Unmarshal([]byte(bad), &whole))
		line, _, _ := strings.Cut(werr.Error(), ": ")
		_, err := parseVEX("v.json", []byte(bad))
		if err == nil || !strings.HasPrefix(err.Error(), line+": statements.") {
			t.Errorf("error %v\nwant it placed as %v", err, werr)
		}
	}
	// Inside a product or vulnerability (read by their own UnmarshalJSON,
	// for the v0.0.x string spellings) json cannot place them: the
	// statement is named and placed (json.Unmarshal of the whole document
	// gave a wrong line).
	for bad, want := range map[string]string{
		strings.Replace(doc, `{"@id": "pkg:apk/alpine/p1@1"}`, `{"@id": "pkg:apk/alpine/p1@1", "hashes": {"sha256": false}}`, 1): "v.json:5:5: statements.1: hashes: got JSON bool, want a string",
		strings.Replace(doc, `{"name": "CVE-2024-2"}`, `{"name": "CVE-2024-2", "aliases": [1]}`, 1):                              "v.json:6:5: statements.2: aliases: got JSON number, want a string",
	} {
		if _, err := parseVEX("v.json", []byte(bad)); err == nil || err.Error() != want {
			t.Errorf("error %v\nwant %s", err, want)
		}
	}
}

// A document over the cap is refused by size, not half read.
func TestVEXStreamSizeCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [`)
	for i := range 200 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"vulnerability": "CVE-2024-%d", "products": ["pkg:npm/a@1"], "status": "fixed"}`, i)
	}
	b.WriteString("]}")
	doc := b.String()
	if _, err := readVEXMax("v.json", strings.NewReader(doc), int64(len(doc))); err != nil {
		t.Fatalf("at the cap: %v", err)
	}
	for _, max := range []int64{int64(len(doc)) - 1, int64(len(doc)) / 2, 1 << 20 >> 10} {
		if _, err := readVEXMax("v.json", strings.NewReader(doc), max); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("cap %d: %v", max, err)
		}
	}
}

// Statements keep their meaning through packing: the same document read
// from a file and applied gives what the fixtures' tests expect, and
// packing is lossless for every field.
func TestVEXPackRoundTrip(t *testing.T) {
	for _, name := range []string{"app.openvex.json", "app.cdx.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		stmts, err := parseVEX(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if len(stmts) == 0 {
			t.Fatalf("%s: no statements", name)
		}
		for i := range stmts {
			e := stmts[i].expand()
			again := pack(stmts[i].src, e)
			e2 := again.expand()
			if !e.time.Equal(e2.time) {
				t.Errorf("%s#%d: time %v, unpacked %v", name, i, e.time, e2.time)
			}
			e.time, e2.time = time.Time{}, time.Time{}
			if !reflect.DeepEqual(e, e2) {
				t.Errorf("%s#%d: packing loses something:\n%+v\n%+v", name, i, e, e2)
			}
			if e.status == "" || len(e.products) == 0 || len(e.ids) == 0 {
				t.Errorf("%s#%d: unpacked %+v", name, i, e)
			}
		}
		(&Policy{vex: stmts}).Apply(reporttest.Report(), testNow)
	}
}
