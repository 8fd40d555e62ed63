package policy

import (
	"sync"

	"github.com/vigil-scan/vigil/internal/pathglob"
)

// glob is a compiled pattern with the text it came from; the syntax is
// pathglob's, shared with the ignore files and the layer walk.
//
// The pattern is checked when the rule is read but compiled again, and
// kept, only when a finding is first matched against it: a compiled
// wildcard pattern is a regexp of about 10 KB, and a large ignore file has
// tens of thousands of patterns (every purl with qualifiers has a '?'),
// of which a scan evaluates the few whose ids it found (a 7.9 MB
// .trivyignore.yaml of 40,000 purls held 395 MB of regexps).
type glob struct {
	pattern string
	once    sync.Once
	p       *pathglob.Pattern
}

func compileGlob(pattern string) (*glob, error) {
	if _, err := pathglob.Compile(pattern); err != nil {
		return nil, err
	}
	return &glob{pattern: pattern}, nil
}

func (g *glob) match(s string) bool {
	g.once.Do(func() {
		// It compiled when read, so it compiles now.
		g.p, _ = pathglob.Compile(g.pattern)
	})
	return g.p.Match(s)
}

func (g *glob) String() string { return g.pattern }
