package golang

import (
	"context"
	"os"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func analyze(t *testing.T, path string, content []byte) ([]inventory.Package, error) {
	t.Helper()
	var out inventory.LayerResult
	a := Analyzers()[0]
	if !a.Claims(path, 0o755, int64(len(content))) {
		t.Fatalf("%s not claimed", path)
	}
	err := a.Analyze(context.Background(), inventory.NewFileBytes(path, 0o755, content), &out)
	return out.Packages, err
}

func ids(pkgs []inventory.Package) []string {
	var s []string
	for _, p := range pkgs {
		s = append(s, p.Name+"@"+p.Version)
	}
	slices.Sort(s)
	return s
}

func TestCorpusBinaries(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"trivy-test.elf", []string{
			"github.com/aquasecurity/go-pep440-version@v0.0.0-20210121094942-22b2f8951d46",
			"github.com/aquasecurity/go-version@v0.0.0-20210121072130-637058cfe492",
			"github.com/aquasecurity/test@(devel)",
			"golang.org/x/xerrors@v0.0.0-20200804184101-5ec99f83aff1",
			"stdlib@v1.15.2",
		}},
		{"trivy-main-version-via-ldflags.elf", []string{
			"github.com/aquasecurity/test@v1.0.0",
			"stdlib@v1.22.1",
		}},
		{"trivy-goexperiment", []string{"stdlib@v1.22.1"}},
		{"trivy-bbolt-1.3.5.macho", []string{"go.etcd.io/bbolt@v1.3.5", "stdlib@v1.20.6"}},
		{"scalibr-module-replacement-linux-amd64", []string{
			"binary_with_module_replacement@(devel)",
			"github.com/golang/xerrors@v0.0.0-20220907171357-04be3eba64a2",
			"stdlib@v1.22.0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			content, err := os.ReadFile(corpus.Path(t, "pkgdb", "go-binary", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := analyze(t, "usr/local/bin/"+tt.file, content)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("packages:\n got %q\nwant %q", got, tt.want)
			}
			for _, p := range pkgs {
				if p.Type != inventory.TypeGolang || p.Ecosystem != "Go" || p.Path != "usr/local/bin/"+tt.file || p.PURL == "" {
					t.Errorf("bad package fields: %+v", p)
				}
			}
		})
	}
}

func TestPackageDetails(t *testing.T) {
	content, err := os.ReadFile(corpus.Path(t, "pkgdb", "go-binary", "scalibr-module-replacement-linux-amd64"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := analyze(t, "app", content)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]inventory.Package{}
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	if got := byName["github.com/golang/xerrors"].Metadata["go.replaced"]; got != "golang.org/x/xerrors" {
		t.Errorf("go.replaced = %q", got)
	}
	std := byName["stdlib"]
	if std.PURL != "pkg:golang/stdlib@v1.22.0" || std.Metadata["go.toolchain"] != "go1.22.0" {
		t.Errorf("stdlib = %+v", std)
	}
	if byName["binary_with_module_replacement"].Metadata["go.main"] != "true" {
		t.Errorf("main module not marked: %+v", byName["binary_with_module_replacement"])
	}
	if got := byName["github.com/golang/xerrors"].PURL; got != "pkg:golang/github.com/golang/xerrors@v0.0.0-20220907171357-04be3eba64a2" {
		t.Errorf("purl = %q", got)
	}
}

func TestNotGo(t *testing.T) {
	elf, err := os.ReadFile(corpus.Path(t, "pkgdb", "go-binary", "trivy-test.elf"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"shell script":  []byte("#!/bin/sh\necho hi\n"),
		"truncated elf": elf[:4096],
		"elf header":    []byte("\x7fELF"),
		"corrupt elf":   append(append([]byte{}, elf[:64]...), make([]byte, 1000)...),
		"pe stub":       []byte("MZ\x00\x00garbage"),
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			pkgs, err := analyze(t, "bin/x", content)
			if err != nil || len(pkgs) != 0 {
				t.Errorf("got %v, %v; want nothing", pkgs, err)
			}
		})
	}
}

func TestClaims(t *testing.T) {
	tests := []struct {
		path string
		mode uint32
		size int64
		want bool
	}{
		{"usr/bin/app", 0o755, 10, true},
		{"usr/bin/app", 0o644, 10, false},
		{"usr/bin/app", 0o755, 0, false},
		{"usr/share/doc/x", 0o755, 10, false},
		{"usr/bin/app", 0o755, inventory.DefaultMaxFileSize + 1, false},
	}
	for _, tt := range tests {
		if got := Analyzers()[0].Claims(tt.path, os.FileMode(tt.mode), tt.size); got != tt.want {
			t.Errorf("Claims(%s, %o, %d) = %v", tt.path, tt.mode, tt.size, got)
		}
	}
}

func TestToolchainVersion(t *testing.T) {
	tests := map[string]string{
		"go1.22.1":           "v1.22.1",
		"go1.22.1 X:loopvar": "v1.22.1",
		"go1.20":             "v1.20.0",
		"go1.21rc2":          "v1.21.0-rc.2",
		"go1.23.4-bigcorp":   "v1.23.4",
		"devel +abc":         "",
		"":                   "",
	}
	for in, want := range tests {
		got, ok := toolchainVersion(in)
		if got != want || ok != (want != "") {
			t.Errorf("toolchainVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestSplitFlags(t *testing.T) {
	got := splitFlags(`-s -w -X 'main.version=1.2.3' -X="main.commit=abc def"`)
	want := []string{"-s", "-w", "-X", "main.version=1.2.3", "-X=main.commit=abc def"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestSyntheticBinaries(t *testing.T) {
	replaced := &debug.Module{Path: "example.com/fork", Version: "v1.2.4"}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want []string
	}{
		{"ldflags without v", &debug.BuildInfo{
			Path: "example.com/app", Main: debug.Module{Path: "example.com/app", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "-ldflags", Value: `-s -X 'main.Version=2.3.4'`}},
		}, []string{"example.com/app@v2.3.4", "stdlib@v1.21.0-rc.2"}},
		{"ldflags not a version", &debug.BuildInfo{
			Path: "example.com/app", Main: debug.Module{Path: "example.com/app", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "-ldflags", Value: `-X main.version=dev`}},
		}, []string{"example.com/app@(devel)", "stdlib@v1.21.0-rc.2"}},
		{"replacement", &debug.BuildInfo{
			Path: "example.com/app", Main: debug.Module{Path: "example.com/app", Version: "v0.1.0"},
			Deps: []*debug.Module{{Path: "example.com/lib", Version: "v1.2.3", Replace: replaced}},
		}, []string{"example.com/app@v0.1.0", "example.com/fork@v1.2.4", "stdlib@v1.21.0-rc.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, err := analyze(t, "bin/app", tinyGoELF("go1.21rc2", tt.info))
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkAnalyzeBinary(b *testing.B) {
	content, err := os.ReadFile(corpus.Path(b, "pkgdb", "go-binary", "trivy-test.elf"))
	if err != nil {
		b.Fatal(err)
	}
	a := Analyzers()[0]
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		var out inventory.LayerResult
		if err := a.Analyze(context.Background(), inventory.NewFileBytes("app", 0o755, content), &out); err != nil || len(out.Packages) == 0 {
			b.Fatal(err)
		}
	}
}
