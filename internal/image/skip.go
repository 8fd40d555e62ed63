package image

import (
	"fmt"
	"path"
	"strings"

	"github.com/vigil-scan/vigil/internal/pathglob"
)

// skipRules are --skip-dirs and --skip-files compiled once per scan. A
// skipped entry is never offered to an analyzer, so its content is never
// read (the tar stream just moves past it).
type skipRules struct {
	dirs, files []*pathglob.Pattern
}

// compileSkips compiles the patterns of Options.SkipDirs and SkipFiles;
// a leading "/" is dropped (paths in a layer are relative to the root).
func compileSkips(dirs, files []string) (*skipRules, error) {
	if len(dirs)+len(files) == 0 {
		return nil, nil
	}
	s := &skipRules{}
	for _, l := range []struct {
		flag string
		in   []string
		out  *[]*pathglob.Pattern
	}{{"skip-dirs", dirs, &s.dirs}, {"skip-files", files, &s.files}} {
		for _, p := range l.in {
			g, err := pathglob.Compile(strings.Trim(p, "/"))
			if err != nil {
				return nil, fmt.Errorf("--%s %q: %w", l.flag, p, err)
			}
			*l.out = append(*l.out, g)
		}
	}
	return s, nil
}

// ValidateSkips reports a malformed --skip-dirs or --skip-files pattern
// before any image is read.
func ValidateSkips(dirs, files []string) error {
	_, err := compileSkips(dirs, files)
	return err
}

// file reports whether the file at p (cleaned, relative) is skipped: it
// matches a file pattern, or it or one of its parent directories matches a
// directory pattern.
func (s *skipRules) file(p string) bool {
	if s == nil {
		return false
	}
	for _, g := range s.files {
		if g.Match(p) {
			return true
		}
	}
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if s.dir(d) {
			return true
		}
	}
	return false
}

// dir reports whether directory d matches a directory pattern.
func (s *skipRules) dir(d string) bool {
	if s == nil {
		return false
	}
	for _, g := range s.dirs {
		if g.Match(d) {
			return true
		}
	}
	return false
}

// fingerprint is the part of the layer cache key the rules change.
func (s *skipRules) fingerprint() string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	for _, g := range s.dirs {
		b.WriteString("skipdir=" + g.String() + "\n")
	}
	for _, g := range s.files {
		b.WriteString("skipfile=" + g.String() + "\n")
	}
	return b.String()
}
