package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// render writes the fixture report in a format and returns the bytes.
func render(t *testing.T, format string, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, reporttest.Report(), opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	dockerfile := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(dockerfile, []byte(reporttest.Dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, format string
		opts         Options
	}{
		{"table.txt", "table", Options{}},
		{"table-80.txt", "table", Options{Width: 80}},
		{"table-120.txt", "table", Options{Width: 120}},
		{"table-color.txt", "table", Options{Color: true}},
		{"table-sbom.txt", "table", Options{SBOMOnly: true}},
		{"report.json", "json", Options{}},
		{"sbom.json", "json", Options{SBOMOnly: true}},
		{"report.sarif", "sarif", Options{}},
		{"dockerfile.sarif", "sarif", Options{Dockerfile: dockerfile}},
		{"report.cdx.json", "cyclonedx", Options{}},
		{"sbom.cdx.json", "cyclonedx-json", Options{SBOMOnly: true}},
		{"sbom.spdx.json", "spdx-json", Options{}},
		{"junit.xml", "junit", Options{}},
		{"gitlab.json", "gitlab", Options{}},
		{"scanreport.json", "containerscan", Options{}},
		{"summary.md", "markdown", Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.format, tc.opts)
			// The Dockerfile lives in a temp dir; golden files keep a stable name.
			got = bytes.ReplaceAll(got, []byte(filepath.ToSlash(dockerfile)), []byte("Dockerfile"))
			if again := render(t, tc.format, tc.opts); !bytes.Equal(bytes.ReplaceAll(again, []byte(filepath.ToSlash(dockerfile)), []byte("Dockerfile")), got) {
				t.Fatal("output differs between two renders of the same report")
			}
			path := filepath.Join("testdata", "golden", tc.name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from golden file; run `go test ./internal/report -update` and review the diff\ngot:\n%s", tc.name, got)
			}
		})
	}
}

// compileSchema loads a JSON schema, registering sibling schemas it $refs.
func compileSchema(t *testing.T, main string, extra ...string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	load := func(path string) string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		id := "file:///" + filepath.ToSlash(path)
		if m, ok := doc.(map[string]any); ok {
			if s, ok := m["$id"].(string); ok && s != "" {
				id = s
			}
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return id
	}
	for _, e := range extra {
		load(e)
	}
	id := load(main)
	s, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compiling %s: %v", main, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("output does not validate: %v", err)
	}
}

func TestSARIFSchema(t *testing.T) {
	s := compileSchema(t, corpus.Path(t, "schemas", "sarif-schema-2.1.0.json"))
	for _, opts := range []Options{{}, {Dockerfile: "Dockerfile"}} {
		validate(t, s, render(t, "sarif", opts))
	}
}

func TestCycloneDXSchema(t *testing.T) {
	dir := filepath.Dir(corpus.Path(t, "schemas", "bom-1.6.schema.json"))
	s := compileSchema(t, filepath.Join(dir, "bom-1.6.schema.json"),
		filepath.Join(dir, "spdx.schema.json"), filepath.Join(dir, "jsf-0.82.schema.json"))
	for _, opts := range []Options{{}, {SBOMOnly: true}} {
		validate(t, s, render(t, "cyclonedx", opts))
	}
}

func TestSPDXSchema(t *testing.T) {
	s := compileSchema(t, filepath.Join("testdata", "schemas", "spdx-schema-2.3.json"))
	validate(t, s, render(t, "spdx-json", Options{}))
}

func TestGitLabSchema(t *testing.T) {
	s := compileSchema(t, filepath.Join("testdata", "schemas", "container-scanning-report-format-15.2.4.json"))
	validate(t, s, render(t, "gitlab", Options{}))
}

func TestFormatsListed(t *testing.T) {
	want := "containerscan cyclonedx cyclonedx-json gitlab json junit markdown sarif spdx-json table"
	if got := strings.Join(Formats(), " "); got != want {
		t.Errorf("Formats() = %s, want %s", got, want)
	}
	var buf bytes.Buffer
	err := Write(&buf, "html", reporttest.Report(), Options{})
	if err == nil || !strings.Contains(err.Error(), "sarif") {
		t.Errorf("unknown format error should list formats, got %v", err)
	}
}
