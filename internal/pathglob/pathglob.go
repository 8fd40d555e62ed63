// Package pathglob owns the shell-style patterns every Vigil setting
// shares: policy rules, ignore files and the layer walk's --skip-dirs and
// --skip-files. It is written here rather than taken from path.Match
// because '**' (any run of directories) is what users of Trivy and Grype
// write, and the standard library has no such pattern.
package pathglob

import (
	"fmt"
	"regexp"
	"strings"
)

// Pattern is a compiled shell-style pattern. The syntax is the same in every
// field of a policy file: `*` matches any run of characters except '/',
// `**` matches any run including '/', `?` one character except '/',
// `[abc]`, `[a-z]` and `[!a-z]` a character class, and `\` escapes the next
// character. A pattern must match the whole value.
type Pattern struct {
	pattern string
	re      *regexp.Regexp
	// literal is set when the pattern has no metacharacters, so matching is
	// a plain comparison.
	literal bool
}

// maxGlobLen bounds pattern length; regexp compilation is linear in it but
// nobody writes a 4 KiB package glob on purpose.
const maxGlobLen = 4096

// Compile compiles a pattern; the error names what is wrong with it.
func Compile(pattern string) (*Pattern, error) {
	if pattern == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	if len(pattern) > maxGlobLen {
		return nil, fmt.Errorf("pattern longer than %d bytes", maxGlobLen)
	}
	if !strings.ContainsAny(pattern, `*?[\`) {
		return &Pattern{pattern: pattern, literal: true}, nil
	}
	p := []rune(pattern)
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				for i+1 < len(p) && p[i+1] == '*' {
					i++
				}
				// "**/" also matches no directory at all: "a/**/b" matches "a/b".
				if i+1 < len(p) && p[i+1] == '/' {
					i++
					b.WriteString(`(?:.*/)?`)
				} else {
					b.WriteString(`.*`)
				}
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '\\':
			if i+1 >= len(p) {
				return nil, fmt.Errorf("pattern %q ends with a lone backslash", pattern)
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		case '[':
			end, class, err := globClass(p, i)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", pattern, err)
			}
			b.WriteString(class)
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return &Pattern{pattern: pattern, re: re}, nil
}

// globClass translates the character class starting at p[start] ('[') and
// returns the index of its closing ']'.
func globClass(p []rune, start int) (int, string, error) {
	var b strings.Builder
	b.WriteString("[")
	i := start + 1
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		b.WriteString("^")
		i++
	}
	members := 0
	for ; i < len(p); i++ {
		c := p[i]
		switch {
		case c == ']' && members > 0:
			b.WriteString("]")
			return i, b.String(), nil
		case c == '\\':
			if i+1 >= len(p) {
				return 0, "", fmt.Errorf("lone backslash at the end")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		case c == '-' && members > 0 && i+1 < len(p) && p[i+1] != ']':
			if p[i+1] < p[i-1] {
				return 0, "", fmt.Errorf("reversed range %c-%c", p[i-1], p[i+1])
			}
			b.WriteString("-")
		case c == '/':
			return 0, "", fmt.Errorf("'/' inside a character class")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
		members++
	}
	return 0, "", fmt.Errorf("unclosed '['")
}

// Match reports whether the pattern matches all of s.
func (g *Pattern) Match(s string) bool {
	if g.literal {
		return g.pattern == s
	}
	return g.re.MatchString(s)
}

// String is the pattern as written.
func (g *Pattern) String() string { return g.pattern }
