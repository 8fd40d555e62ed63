package python

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// parseRequirements reads the pinned lines ("name==1.2.3", with optional
// extras, environment markers and hash options) of a pip requirements
// file. Ranges, URLs and options name no single version and are skipped.
func parseRequirements(path string, content []byte) ([]inventory.Package, error) {
	c := newCollector(path)
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var logical strings.Builder
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		// A trailing backslash continues the requirement on the next line.
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			if logical.Len()+len(cont) > 1<<20 {
				return nil, fmt.Errorf("line %d: continued line too long", lineNo)
			}
			logical.WriteString(cont)
			logical.WriteByte(' ')
			continue
		}
		logical.WriteString(line)
		name, version, ok := pinnedRequirement(logical.String())
		logical.Reset()
		if !ok {
			continue
		}
		if err := c.add(name, version, false); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return c.packages(), nil
}

// pinnedRequirement returns the name and version of "name[extras] == v"
// ("===" too), ignoring comments, markers (after ';') and options.
func pinnedRequirement(line string) (name, version string, ok bool) {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' || line[0] == '-' {
		return "", "", false
	}
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	if i := strings.Index(line, " --"); i >= 0 {
		line = line[:i]
	}
	name, version, found := strings.Cut(line, "==")
	if !found || strings.Contains(version, ",") {
		return "", "", false
	}
	version = strings.TrimSpace(strings.TrimPrefix(version, "="))
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimSpace(name)
	if !validName(name) || version == "" || strings.ContainsAny(version, " *<>!~@") {
		return "", "", false
	}
	return name, version, true
}

// validName accepts PEP 508 distribution names: ASCII letters, digits and
// . _ - (starting and ending alphanumeric).
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(name)-1 || (c != '.' && c != '_' && c != '-')) {
			return false
		}
	}
	return true
}
