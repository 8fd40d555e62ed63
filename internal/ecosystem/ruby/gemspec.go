package ruby

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// Installed gemspecs are Ruby source, but RubyGems generates them
// (Gem::Specification#to_ruby) in a fixed shape: one `s.attr = value`
// assignment per line, values as string literals with `.freeze`, arrays
// of them, or %q{} literals in older gems. Evaluating Ruby is out of the
// question in a scanner, and no Go library parses it, so the few
// attributes needed are matched line by line.
var (
	// gemspecAssign matches `s.name = ...`, `spec.licenses = [...]`.
	gemspecAssign = regexp.MustCompile(`^\s*[a-z_]\w*\.(name|version|license|licenses)\s*=\s*(.*)$`)
	// rubyString matches "...", '...', and %q{...} %q<...> %q(...) %q[...].
	rubyString = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%[qQ]?\{([^}]*)\}|%[qQ]?<([^>]*)>|%[qQ]?\(([^)]*)\)|%[qQ]?\[([^\]]*)\]`)
	// gemspecStub is RubyGems' first-line summary: "# stub: name version platform paths".
	gemspecStub = regexp.MustCompile(`^#\s*stub:\s*(\S+)\s+(\S+)`)
)

type gemspec struct {
	name, version string
	licenses      []string
}

func parseGemspecFile(path string, content []byte) ([]inventory.Package, error) {
	g, err := parseGemspec(content)
	if err != nil {
		return nil, err
	}
	return []inventory.Package{newPackage(g.name, g.version, path, g.licenses)}, nil
}

func parseGemspec(content []byte) (gemspec, error) {
	var g gemspec
	var stubName, stubVersion string
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := gemspecStub.FindStringSubmatch(line); m != nil && stubName == "" {
			stubName, stubVersion = m[1], m[2]
			continue
		}
		m := gemspecAssign.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		values := stringLiterals(m[2])
		switch m[1] {
		case "name":
			if g.name == "" && len(values) > 0 {
				g.name = values[0]
			}
		case "version":
			if g.version == "" && len(values) > 0 {
				g.version = values[0]
			}
		case "license", "licenses":
			g.licenses = append(g.licenses, values...)
		}
	}
	if err := sc.Err(); err != nil {
		return g, fmt.Errorf("reading gemspec: %w", err)
	}
	if g.name == "" {
		g.name = stubName
	}
	if g.version == "" {
		g.version = stubVersion
	}
	if g.name == "" || g.version == "" {
		return g, errors.New("no literal name and version: not a generated gemspec")
	}
	return g, nil
}

// stringLiterals returns the string literals of a Ruby expression in
// order, e.g. ["MIT", "Ruby"] for `["MIT".freeze, "Ruby".freeze]`.
func stringLiterals(expr string) []string {
	var out []string
	for _, m := range rubyString.FindAllStringSubmatch(expr, 64) {
		for _, g := range m[1:] {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
