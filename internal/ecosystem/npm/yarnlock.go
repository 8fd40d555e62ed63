package npm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// parseYarnLock reads a Yarn lockfile. Yarn classic (v1) writes its own
// format, close to YAML but not YAML (unquoted keys with spaces, values
// after a space with no colon), so no YAML or JSON library parses it and
// Yarn's own parser is JavaScript: it is read line by line here. The same
// reader accepts Yarn Berry (v2+) lockfiles, which are YAML of the same
// shape ("version: 1.2.3"), so both keep one code path.
//
// An entry is a header line at column 0 listing the specifiers it
// resolves ("a@^1.0.0", "a@~1.2.0":), followed by indented fields of which
// only "version" at two spaces matters.
func parseYarnLock(path string, content []byte) ([]inventory.Package, error) {
	c := newCollector(path)
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var (
		name    string // package of the current entry; "" when skipped
		inEntry bool
		lineNo  int
	)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			if !strings.HasSuffix(line, ":") {
				return nil, fmt.Errorf("line %d: entry header does not end with ':'", lineNo)
			}
			var err error
			name, err = yarnEntryName(strings.TrimSuffix(line, ":"))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			inEntry = true
			continue
		}
		if !inEntry {
			return nil, fmt.Errorf("line %d: indented line outside an entry", lineNo)
		}
		if name == "" || !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") {
			continue
		}
		version, ok := yarnField(line[2:], "version")
		if !ok {
			continue
		}
		if err := c.add(name, version, false, nil); err != nil {
			return nil, err
		}
		name = ""
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return c.packages(), nil
}

// yarnField returns the value of `key "value"` (v1) or `key: value` (Berry).
func yarnField(line, key string) (string, bool) {
	rest, ok := strings.CutPrefix(line, key)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != ':') {
		return "", false
	}
	rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	return strings.Trim(rest, `"'`), true
}

// yarnEntryName returns the package an entry header resolves, from its
// first specifier. It returns "" for entries that are not registry
// packages: Berry's __metadata and workspace, link and portal entries.
func yarnEntryName(header string) (string, error) {
	first, _, _ := strings.Cut(header, ",")
	spec := strings.Trim(strings.TrimSpace(first), `"'`)
	if spec == "__metadata" {
		return "", nil
	}
	i := strings.IndexByte(spec[min(1, len(spec)):], '@') + min(1, len(spec))
	if i <= 0 || i == len(spec) {
		return "", errors.New("specifier without a name@range: " + truncate(spec))
	}
	name, rng := spec[:i], spec[i+1:]
	switch {
	case strings.HasPrefix(rng, "workspace:"), strings.HasPrefix(rng, "link:"), strings.HasPrefix(rng, "portal:"):
		return "", nil
	case strings.HasPrefix(rng, "npm:"):
		// An alias ("alias@npm:real@^1.0.0") installs the real package.
		if real, _, ok := splitNameVersion(rng[len("npm:"):]); ok {
			return real, nil
		}
	}
	return name, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
