package image

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"strings"
	"sync/atomic"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// apkCounter is a test-only apk cataloger: one package per "P:" stanza of
// lib/apk/db/installed, so these tests do not depend on the real one.
type apkCounter struct{ analyzed atomic.Int64 }

func (*apkCounter) Name() string { return "test-apk" }
func (*apkCounter) Version() int { return 1 }
func (*apkCounter) Claims(p string, _ fs.FileMode, _ int64) bool {
	return p == "lib/apk/db/installed"
}

func (a *apkCounter) Analyze(_ context.Context, f *inventory.File, out *inventory.LayerResult) error {
	a.analyzed.Add(1)
	b, err := f.Bytes(64 << 20)
	if err != nil {
		return err
	}
	var pkg inventory.Package
	flush := func() {
		if pkg.Name != "" {
			pkg.Type, pkg.Path = inventory.TypeApk, f.Path
			pkg.PURL = "pkg:apk/alpine/" + pkg.Name + "@" + pkg.Version + "?arch=" + pkg.Arch
			out.Packages = append(out.Packages, pkg)
		}
		pkg = inventory.Package{}
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "P:"):
			pkg.Name = line[2:]
		case strings.HasPrefix(line, "V:"):
			pkg.Version = line[2:]
		case strings.HasPrefix(line, "A:"):
			pkg.Arch = line[2:]
		}
	}
	flush()
	return sc.Err()
}

// prefixFacts claims every regular file under prefix and records a "seen"
// fact for it, to observe what survives merging.
type prefixFacts struct{ prefix string }

func (prefixFacts) Name() string { return "test-facts" }
func (prefixFacts) Version() int { return 1 }
func (a prefixFacts) Claims(p string, mode fs.FileMode, _ int64) bool {
	return strings.HasPrefix(p, a.prefix) && mode.IsRegular()
}

func (prefixFacts) Analyze(_ context.Context, f *inventory.File, out *inventory.LayerResult) error {
	out.Facts = append(out.Facts, inventory.FileFact{Kind: "seen", Path: f.Path})
	return nil
}

// contentKeeper keeps the content of the files it claims.
type contentKeeper struct{ paths map[string]bool }

func (contentKeeper) Name() string                                   { return "test-keep" }
func (contentKeeper) Version() int                                   { return 1 }
func (a contentKeeper) Claims(p string, _ fs.FileMode, _ int64) bool { return a.paths[p] }
func (contentKeeper) Analyze(_ context.Context, f *inventory.File, out *inventory.LayerResult) error {
	b, err := f.Bytes(1 << 20)
	if err != nil {
		return err
	}
	out.AddFile(f.Path, b)
	return nil
}
