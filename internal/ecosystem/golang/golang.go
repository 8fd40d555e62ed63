// Package golang catalogs the Go modules compiled into Go executables (ELF,
// Mach-O, PE) from the build information the Go linker embeds, including
// the toolchain itself as the "stdlib" package.
package golang

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"io/fs"
	"runtime/debug"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// maxDeps caps the modules taken from one binary; real binaries list a few
// hundred, so anything far beyond is crafted input.
const maxDeps = 20_000

// Analyzers returns the Go binary cataloger.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{binaryAnalyzer{}}
}

type binaryAnalyzer struct{}

func (binaryAnalyzer) Name() string { return "go-binary" }
func (binaryAnalyzer) Version() int { return 1 }

// Claims takes every executable candidate: Go binaries have no telling
// name or location. Content is checked for a binary magic before anything
// else is read.
func (binaryAnalyzer) Claims(path string, mode fs.FileMode, size int64) bool {
	return ecosystem.IsExecutableCandidate(path, mode, size)
}

func (binaryAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	magic, err := f.Peek(4)
	if err != nil {
		return fmt.Errorf("go-binary: reading %s: %w", f.Path, err)
	}
	if ecosystem.BinaryFormat(magic) == "" {
		return nil
	}
	ra, _, err := f.ReaderAt()
	if err != nil {
		return fmt.Errorf("go-binary: reading %s: %w", f.Path, err)
	}
	info, err := buildinfo.Read(ra)
	if err != nil {
		// Not a Go binary, or one too damaged to carry build info: either
		// way there is nothing to report and nothing worth a warning.
		return nil
	}
	out.Packages = append(out.Packages, Packages(f.Path, info)...)
	return nil
}

// Packages turns the build information of the binary at path into packages:
// the main module, every dependency (as replaced), and the toolchain as
// "stdlib".
func Packages(path string, info *debug.BuildInfo) []inventory.Package {
	var pkgs []inventory.Package
	if m := info.Main; m.Path != "" {
		version := m.Version
		if version == "" || version == "(devel)" {
			if v := versionFromLdflags(info); v != "" {
				version = v
			} else {
				version = "(devel)"
			}
		}
		p := newPackage(path, m.Path, version)
		p.Metadata = map[string]string{"go.main": "true"}
		pkgs = append(pkgs, p)
	}
	for i, dep := range info.Deps {
		if i >= maxDeps {
			break
		}
		if dep == nil || dep.Path == "" {
			continue
		}
		p := newPackage(path, dep.Path, dep.Version)
		if r := dep.Replace; r != nil && r.Path != "" {
			// The replacement is the code that was compiled in.
			p = newPackage(path, r.Path, r.Version)
			p.Metadata = map[string]string{"go.replaced": dep.Path}
		}
		pkgs = append(pkgs, p)
	}
	if v, ok := toolchainVersion(info.GoVersion); ok {
		p := newPackage(path, "stdlib", v)
		p.Metadata = map[string]string{"go.toolchain": strings.Fields(info.GoVersion)[0]}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func newPackage(path, name, version string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypeGolang,
		Ecosystem: ecosystem.Go,
		PURL:      PURL(name, version),
		Path:      path,
	}
}

// PURL returns pkg:golang/<module path>@<version>; the module path's last
// element is the purl name, the rest its namespace.
func PURL(module, version string) string {
	namespace, name := "", module
	if i := strings.LastIndexByte(module, '/'); i >= 0 {
		namespace, name = module[:i], module[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, namespace, name, version, nil, "").ToString()
}

// toolchainVersion turns "go1.22.1" or "go1.22.1 X:loopvar" into "v1.22.1",
// the form Go vulnerability records use for stdlib. Release candidates and
// betas ("go1.21rc2") become "v1.21.0-rc.2", like the Go vulndb does.
func toolchainVersion(goVersion string) (string, bool) {
	fields := strings.Fields(goVersion)
	if len(fields) == 0 {
		return "", false
	}
	v, ok := strings.CutPrefix(fields[0], "go")
	if !ok || v == "" || v[0] < '0' || v[0] > '9' {
		return "", false
	}
	// Drop suffixes the toolchain appends such as "-bigcorp" or "+auto".
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	pre := ""
	for _, tag := range []string{"rc", "beta"} {
		if i := strings.Index(v, tag); i >= 0 {
			pre = "-" + tag + "." + v[i+len(tag):]
			v = v[:i]
			break
		}
	}
	switch strings.Count(v, ".") {
	case 0:
		v += ".0.0"
	case 1:
		v += ".0"
	}
	return "v" + v + pre, true
}
