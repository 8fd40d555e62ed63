package rust

import (
	"bytes"
	"compress/zlib"
	"context"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func ids(pkgs []inventory.Package) []string {
	var s []string
	for _, p := range pkgs {
		id := p.Name + "@" + p.Version
		if src := p.Metadata["cargo.source"]; src == "local" {
			id += " local"
		}
		s = append(s, id)
	}
	slices.Sort(s)
	return s
}

func run(t *testing.T, a inventory.Analyzer, path string, mode fs.FileMode, content []byte) ([]inventory.Package, error) {
	t.Helper()
	if !a.Claims(path, mode, int64(len(content))) {
		t.Fatalf("%s: %s not claimed", a.Name(), path)
	}
	var out inventory.LayerResult
	err := a.Analyze(context.Background(), inventory.NewFileBytes(path, mode, content), &out)
	return out.Packages, err
}

func TestCargoLockCorpus(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"syft-git-deps", []string{"aho-corasick@1.1.3", "hello_world@0.1.0 local", "memchr@2.7.4", "minimal-lexical@0.2.1",
			"nom-regex@0.2.0", "nom@7.1.3", "regex-automata@0.4.9", "regex-syntax@0.8.5", "regex@1.11.1"}},
		{"syft", []string{"ansi_term@0.12.1", "errno@0.3.9", "matches@0.1.8", "memchr@2.3.3", "natord@1.0.9", "nom@4.2.3",
			"schannel@0.1.26", "unicode-bidi@0.3.4", "version_check@0.1.5", "winapi-i686-pc-windows-gnu@0.4.0",
			"winapi-x86_64-pc-windows-gnu@0.4.0", "winapi@0.3.9", "windows-sys@0.52.0", "windows-sys@0.59.0"}},
		{"trivy-normal", []string{"idna@0.1.5", "libc@0.2.54", "matches@0.1.8", "normal@0.1.0 local", "percent-encoding@1.0.1",
			"typemap@0.3.3", "unsafe-any@0.4.2", "url@1.7.2"}},
		{"trivy-v3", []string{"aho-corasick@0.7.20", "app@0.1.0 local", "libc@0.2.140", "memchr@1.0.2", "memchr@2.5.0",
			"regex-syntax@0.5.6", "regex-syntax@0.6.29", "regex@1.7.3", "ucd-util@0.1.10"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			content, err := os.ReadFile(corpus.Path(t, "pkgdb", "cargo", tt.dir, "Cargo.lock"))
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := run(t, Analyzers()[0], "src/app/Cargo.lock", 0o644, content)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("packages:\n got %q\nwant %q", got, tt.want)
			}
			for _, p := range pkgs {
				if p.Ecosystem != "crates.io" || p.Type != inventory.TypeCargo || p.PURL != "pkg:cargo/"+p.Name+"@"+p.Version || p.Path != "src/app/Cargo.lock" {
					t.Errorf("bad fields: %+v", p)
				}
			}
		})
	}
}

func TestCargoLockPrefersRegistry(t *testing.T) {
	content, err := os.ReadFile(corpus.Path(t, "pkgdb", "cargo", "syft-git-deps", "Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := ParseCargoLock("Cargo.lock", content)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if p.Name == "regex" && !strings.HasPrefix(p.Metadata["cargo.source"], "registry+") {
			t.Errorf("regex source = %q, want the registry copy", p.Metadata["cargo.source"])
		}
	}
}

func TestCargoLockInvalid(t *testing.T) {
	for name, content := range map[string]string{
		"not toml":      "[[package]\nname = ",
		"wrong type":    "package = 3",
		"missing field": "[[package]]\nname = \"x\"\n",
	} {
		if pkgs, err := ParseCargoLock("Cargo.lock", []byte(content)); err == nil {
			t.Errorf("%s: no error, got %v", name, pkgs)
		}
	}
	if pkgs, err := ParseCargoLock("Cargo.lock", []byte("version = 3\n")); err != nil || len(pkgs) != 0 {
		t.Errorf("empty lock: %v %v", pkgs, err)
	}
}

func TestAuditableCorpus(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"trivy-auditable.elf", []string{"crate_with_features@0.1.0 local", "library_crate@0.1.0 local"}},
		{"scalibr-uses_serde_json", []string{"itoa@1.0.14", "memchr@2.7.4", "proc-macro2@1.0.92", "quote@1.0.38", "ryu@1.0.18",
			"serde@1.0.217", "serde_derive@1.0.217", "serde_json@1.0.135", "syn@2.0.95", "unicode-ident@1.0.14", "uses_json@0.1.0 local"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			content, err := os.ReadFile(corpus.Path(t, "pkgdb", "rust-binary", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := run(t, Analyzers()[1], "usr/bin/"+tt.file, 0o755, content)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("packages:\n got %q\nwant %q", got, tt.want)
			}
			roots := 0
			for _, p := range pkgs {
				if p.Metadata["cargo.root"] == "true" {
					roots++
				}
			}
			if roots != 1 {
				t.Errorf("%d root packages, want 1", roots)
			}
		})
	}
}

func TestAuditableNothing(t *testing.T) {
	elf, err := os.ReadFile(corpus.Path(t, "pkgdb", "rust-binary", "trivy-auditable.elf"))
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := os.ReadFile(corpus.Path(t, "pkgdb", "go-binary", "trivy-bbolt-1.3.5.macho"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"script":          []byte("#!/bin/sh\n"),
		"truncated elf":   elf[:2000],
		"elf magic only":  []byte("\x7fELF"),
		"macho no dep-v0": goBin,
		"pe garbage":      []byte("MZ garbage garbage"),
	} {
		pkgs, err := run(t, Analyzers()[1], "bin/x", 0o755, content)
		if err != nil || len(pkgs) != 0 {
			t.Errorf("%s: got %v, %v; want nothing", name, pkgs, err)
		}
	}
}

func compress(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestAuditData(t *testing.T) {
	bomb := compress(t, bytes.Repeat([]byte(" "), maxAuditJSONBytes+10))
	tests := []struct {
		name    string
		data    []byte
		want    []string
		wantErr bool
	}{
		{"build deps skipped", compress(t, []byte(`{"packages":[{"name":"a","version":"1.0.0","source":"crates.io"},{"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}`)), []string{"a@1.0.0"}, false},
		{"not zlib", []byte("plain"), nil, true},
		{"truncated zlib", compress(t, []byte(`{"packages":[]}`))[:6], nil, true},
		{"bad json", compress(t, []byte(`{"packages":`)), nil, true},
		{"zlib bomb", bomb, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, err := ParseAuditData("bin/x", tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
}
