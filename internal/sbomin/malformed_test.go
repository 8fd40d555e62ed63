package sbomin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestMalformed(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // substring of the error
		notSBOM  bool
	}{
		{"empty", "", "empty input", true},
		{"whitespace", " \n\t ", "empty input", true},
		{"text", "hello world", "not JSON, XML or SPDX tag-value", true},
		{"json array", `[{"bomFormat":"CycloneDX"}]`, "JSON array", true},
		{"other json", `{"name": "x", "packages": []}`, `JSON without "bomFormat"`, true},
		{"html", "<html><body>hi</body></html>", "without the CycloneDX namespace", true},
		{"syntax error line", "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.5\",,\n}", "invalid JSON at line 3, column 24", false},
		{"truncated", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [`, "invalid JSON at line 1", false},
		{"probe type", `{"bomFormat": 5}`, "bomFormat is number, want string", false},
		{"cdx no spec", `{"bomFormat": "CycloneDX"}`, "no specVersion", false},
		{"cdx old spec", `{"bomFormat": "CycloneDX", "specVersion": "1.1"}`, `specVersion "1.1" is not supported`, false},
		{"cdx future spec", `{"bomFormat": "CycloneDX", "specVersion": "2.0"}`, `specVersion "2.0" is not supported`, false},
		{"cdx components type", "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\",\n\"components\": 5}", "invalid CycloneDX JSON at line 2", false},
		{"cdx component type", "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.5\",\n\"components\": [{\"type\": \"library\", \"name\": 7}]}", "invalid CycloneDX JSON at line 2", false},
		{"spdx future", `{"spdxVersion": "SPDX-3.0"}`, `spdxVersion "SPDX-3.0" is not supported`, false},
		{"spdx packages type", "{\"spdxVersion\": \"SPDX-2.3\",\n \"packages\": {}}", "invalid SPDX JSON", false},
		{"spdx3 jsonld", `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}`, "SPDX 3", false},
		{"cdx xml broken", "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\">\n<components>\n<component type=\"library\"><name>x</nam>", "invalid CycloneDX XML at line 3", false},
		{"tag-value broken", "SPDXVersion: SPDX-2.3\nPackageName: x\nPackageVersion 1\n", "invalid SPDX tag-value", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Read(context.Background(), strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("no error; got %+v", inv)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if errors.Is(err, ErrNotSBOM) != tt.notSBOM {
				t.Errorf("errors.Is(ErrNotSBOM) = %v, want %v (%v)", !tt.notSBOM, tt.notSBOM, err)
			}
		})
	}
}

func TestReadFileNamesFile(t *testing.T) {
	_, err := ReadFile(context.Background(), "testdata/missing.json")
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("error %v", err)
	}
}

func TestBadAndUnknownPURLs(t *testing.T) {
	in := `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
	  {"type": "library", "name": "broken", "version": "1", "purl": "pkg:"},
	  {"type": "library", "name": "conan-lib", "version": "2", "purl": "pkg:conan/openssl@3.0.0"},
	  {"type": "library", "name": "no-purl", "version": "3"},
	  {"type": "application", "name": "usr/bin/tool"},
	  {"type": "library", "name": "ok", "version": "4", "purl": "pkg:cargo/ok@4"}
	]}`
	inv, err := Read(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 4 {
		t.Fatalf("packages %+v, want 4 (the application is not a package)", inv.Packages)
	}
	if len(inv.Warnings) != 3 {
		t.Errorf("warnings %q, want one per problem kind", inv.Warnings)
	}
	if p := inv.Packages[1]; p.Type != "conan" || p.Name != "conan-lib" || p.Ecosystem != "" {
		t.Errorf("unknown purl type kept as %+v", p)
	}
	if p := inv.Packages[3]; p.Ecosystem != "crates.io" || len(inv.Packages) != 4 {
		t.Errorf("package %+v", p)
	}
}

func TestSizeLimit(t *testing.T) {
	in := `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}`
	if _, err := read(context.Background(), strings.NewReader(in), int64(len(in))); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	_, err := read(context.Background(), strings.NewReader(in+" "), int64(len(in)))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("over the limit: %v", err)
	}
	// An endless stream stops at the limit instead of filling memory.
	_, err = read(context.Background(), endless{}, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("endless input: %v", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, bytes.NewReader([]byte(`{}`))); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// Cancelled mid-read: the reader stops at the next chunk.
	ctx, cancel = context.WithCancel(context.Background())
	r := io.MultiReader(strings.NewReader(`{"bomFormat": `), cancelOnRead{cancel}, endless{})
	if _, err := Read(ctx, r); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

type cancelOnRead struct{ cancel context.CancelFunc }

func (c cancelOnRead) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

func TestUTF8ByteOrderMark(t *testing.T) {
	in := "\xef\xbb\xbf" + `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "ok", "version": "4", "purl": "pkg:cargo/ok@4"}]}`
	inv, err := Read(context.Background(), strings.NewReader(in))
	if err != nil || len(inv.Packages) != 1 {
		t.Fatalf("inv %+v, err %v", inv, err)
	}
}
