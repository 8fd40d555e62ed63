package alpine

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// countStanzasWithVersion counts stanzas that have both P: and V: lines,
// independently of the parser (line prefixes only).
func countStanzasWithVersion(t *testing.T, path string) int {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	n, hasP, hasV := 0, false, false
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if hasP && hasV {
				n++
			}
			hasP, hasV = false, false
		case strings.HasPrefix(line, "P:"):
			hasP = true
		case strings.HasPrefix(line, "V:"):
			hasV = true
		}
	}
	if hasP && hasV {
		n++
	}
	return n
}

func analyzeFile(t *testing.T, path string) (*inventory.LayerResult, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := Analyzers()[0]
	if !a.Claims(InstalledPath, 0o644, int64(len(b))) {
		t.Fatalf("analyzer does not claim %s", InstalledPath)
	}
	out := &inventory.LayerResult{}
	err = a.Analyze(context.Background(), inventory.NewFileBytes(InstalledPath, 0o644, b), out)
	return out, err
}

func TestAnalyzeInstalledCorpus(t *testing.T) {
	tests := []struct {
		fixture      string
		wantPackages int
		wantWarnings int
	}{
		{"trivy-alpine", 15, 1},
		{"scalibr-installed", 15, 0},
		{"syft-multiple-2", 14, 0},
		{"syft-base", 1, 0},
		{"syft-extra-file-attributes", 1, 0},
		{"syft-empty-deps-and-provides", 1, 0},
		{"grype-alpine-match-coverage", 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			path := corpus.Path(t, "pkgdb", "apk", tt.fixture, InstalledPath)
			if got := countStanzasWithVersion(t, path); got != tt.wantPackages {
				t.Fatalf("independent count = %d, table says %d", got, tt.wantPackages)
			}
			out, err := analyzeFile(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Packages) != tt.wantPackages {
				t.Errorf("packages = %d, want %d", len(out.Packages), tt.wantPackages)
			}
			if len(out.Warnings) != tt.wantWarnings {
				t.Errorf("warnings = %q, want %d", out.Warnings, tt.wantWarnings)
			}
			for _, p := range out.Packages {
				if p.Name == "" || p.Version == "" || p.Source == nil || p.Source.Name == "" || p.Type != inventory.TypeApk || p.Path != InstalledPath {
					t.Errorf("incomplete package %+v", p)
				}
				if !strings.HasPrefix(p.PURL, "pkg:apk/alpine/"+p.Name+"@") {
					t.Errorf("purl %q", p.PURL)
				}
			}
		})
	}
}

func TestAnalyzeInstalledFields(t *testing.T) {
	out, err := analyzeFile(t, corpus.Path(t, "pkgdb", "apk", "trivy-alpine", InstalledPath))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]inventory.Package{}
	for _, p := range out.Packages {
		byName[p.Name] = p
	}
	musl := byName["musl"]
	if musl.Version != "1.1.14-r10" || musl.Arch != "x86_64" || musl.Source.Name != "musl" ||
		len(musl.Licenses) != 1 || musl.Licenses[0] != "MIT" ||
		musl.PURL != "pkg:apk/alpine/musl@1.1.14-r10?arch=x86_64" {
		t.Errorf("musl = %+v", musl)
	}
	if _, ok := byName["invalidPackageWithoutAVersion"]; ok {
		t.Error("stanza without a version was reported")
	}
	ssl := byName["libssl1.0"]
	if ssl.Source == nil || ssl.Source.Name != "openssl" || ssl.Source.Version != ssl.Version {
		t.Errorf("libssl1.0 source = %+v", ssl.Source)
	}
}

func TestAnalyzeInstalledErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"not key:value", "hello world\n"},
		{"binary", "\x00\x01\x02\x03"},
		{"line too long", "P:" + strings.Repeat("a", maxLineLength+10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseInstalled(context.Background(), strings.NewReader(tt.content), InstalledPath)
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("corpus corrupt", func(t *testing.T) {
		if _, err := analyzeFile(t, corpus.Path(t, "pkgdb", "apk", "syft-corrupt", InstalledPath)); err == nil {
			t.Fatal("corrupt database gave no error")
		}
	})
}

func TestClaims(t *testing.T) {
	a := Analyzers()[0]
	tests := []struct {
		path string
		mode fs.FileMode
		want bool
	}{
		{InstalledPath, 0o644, true},
		{"lib/apk/db/installed.old", 0o644, false},
		{"usr/lib/apk/db/installed", 0o644, false},
		{InstalledPath, fs.ModeSymlink, false},
	}
	for _, tt := range tests {
		if got := a.Claims(tt.path, tt.mode, 10); got != tt.want {
			t.Errorf("Claims(%q, %v) = %v", tt.path, tt.mode, got)
		}
	}
}

func FuzzParseInstalled(f *testing.F) {
	f.Add([]byte("P:musl\nV:1.2.3-r0\nA:x86_64\no:musl\nL:MIT\n\nP:x\n"))
	f.Add([]byte("C:Q1\nP:a\nV:1\n\n\n"))
	f.Add([]byte("P:py3-six\nV:1.16.0-r0\nF:usr/lib/python3.11/site-packages/six-1.16.0.dist-info\nR:METADATA\nR:RECORD\nF:lib/node_modules/x\nR:package.json\nR:package.json\n\nR:orphan.jar\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		db, err := parseInstalled(context.Background(), strings.NewReader(string(b)), InstalledPath)
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, p := range db.packages {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("empty name or version: %+v", p)
			}
			names[p.Name] = true
		}
		for _, o := range db.owned {
			if !names[o.Owner.Name] || o.Owner.Type != inventory.TypeApk || len(o.Files) == 0 {
				t.Fatalf("owned list of no package: %+v", o)
			}
			for _, f := range o.Files {
				if strings.HasPrefix(f, "/") || !inventory.OwnableFile(f) {
					t.Fatalf("kept %q", f)
				}
			}
		}
	})
}

// TestOwnedFilesCorpus: grype's match-coverage database installs an npm
// module from an apk subpackage; only that package.json is kept, under
// the package that lists it, from the F:/R: lines.
func TestOwnedFilesCorpus(t *testing.T) {
	out, err := analyzeFile(t, corpus.Path(t, "pkgdb", "apk", "grype-alpine-match-coverage", InstalledPath))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.OwnedFiles{{
		Path:  InstalledPath,
		Owner: inventory.Owner{Type: inventory.TypeApk, Name: "npm-apk-subpackage-with-false-positive"},
		Files: []string{"lib/node_modules/npm-apk-subpackage-with-false-positive/package.json"},
	}}
	if !reflect.DeepEqual(out.Owned, want) {
		t.Errorf("owned = %+v\nwant %+v", out.Owned, want)
	}
	// The other databases list shared objects and binaries only.
	out, err = analyzeFile(t, corpus.Path(t, "pkgdb", "apk", "scalibr-installed", InstalledPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Owned) != 0 {
		t.Errorf("owned = %+v, want none", out.Owned)
	}
}
