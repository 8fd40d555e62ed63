package policy

import "github.com/vigil-scan/vigil/internal/pathglob"

// glob is a compiled pattern with the text it came from; the syntax is
// pathglob's, shared with the ignore files and the layer walk.
type glob struct {
	pattern string
	p       *pathglob.Pattern
}

func compileGlob(pattern string) (*glob, error) {
	p, err := pathglob.Compile(pattern)
	if err != nil {
		return nil, err
	}
	return &glob{pattern: pattern, p: p}, nil
}

func (g *glob) match(s string) bool { return g.p.Match(s) }

func (g *glob) String() string { return g.pattern }
