package ruby

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// parseGemfileLock reads the gems Bundler resolved. Gemfile.lock is
// Bundler's own indentation format (not YAML), written by
// Bundler::LockfileGenerator: sections at column 0 (GEM, GIT, PATH,
// PLATFORMS, DEPENDENCIES, ...), and in the source sections a "specs:"
// list with one "name (version[-platform])" per gem at four spaces, its
// dependencies at six. No Go library reads it; the rules are few.
func parseGemfileLock(path string, content []byte) ([]inventory.Package, error) {
	set := ecosystem.PackageSet{Max: maxPackages}
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var section string
	inSpecs := false
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" {
			continue
		}
		if line[0] != ' ' {
			if !isSectionName(line) {
				return nil, fmt.Errorf("line %d: %q is not a section name", lineNo, truncate(line))
			}
			section, inSpecs = line, false
			continue
		}
		if section == "" {
			return nil, fmt.Errorf("line %d: indented line before any section", lineNo)
		}
		if section != "GEM" && section != "GIT" && section != "PATH" {
			continue
		}
		if line == "  specs:" {
			inSpecs = true
			continue
		}
		if !inSpecs || !strings.HasPrefix(line, "    ") || line[4] == ' ' {
			continue
		}
		name, version, platform, err := parseSpecLine(line[4:])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		// A gem locked for several platforms is one package; its
		// platforms are listed together.
		p := newPackage(name, version, path, nil)
		addPlatform(&p, platform)
		if err := set.Add(name+"@"+version, p, func(kept *inventory.Package, _ inventory.Package) {
			addPlatform(kept, platform)
		}); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineNo+1, err)
	}
	return set.Sorted(), nil
}

func addPlatform(p *inventory.Package, platform string) {
	if platform == "" {
		return
	}
	old := p.Metadata["gem.platform"]
	if old == "" {
		p.Metadata = map[string]string{"gem.platform": platform}
		return
	}
	if !slices.Contains(strings.Split(old, ","), platform) {
		p.Metadata["gem.platform"] = old + "," + platform
	}
}

// isSectionName accepts the upper-case section headers Bundler writes
// ("GEM", "RUBY VERSION", "PLUGIN SOURCE", "BUNDLED WITH"); a lockfile
// with anything else at column 0 is corrupt (or holds merge markers).
func isSectionName(line string) bool {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if !(c >= 'A' && c <= 'Z' || c == ' ' || c == '-' || c == '_' || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// parseSpecLine splits "nokogiri (1.13.3-x86_64-linux)" into name, version
// and platform. Gem versions cannot contain '-', so the first one starts
// the platform Bundler appends for non-ruby platforms.
func parseSpecLine(s string) (name, version, platform string, err error) {
	name, rest, ok := strings.Cut(s, " (")
	if !ok || !strings.HasSuffix(rest, ")") || name == "" || strings.ContainsAny(name, " \t") {
		return "", "", "", fmt.Errorf("spec %q is not \"name (version)\"", truncate(s))
	}
	version = strings.TrimSuffix(rest, ")")
	version, platform, _ = strings.Cut(version, "-")
	if version == "" || strings.ContainsAny(version, " ,<>=~!") {
		return "", "", "", errors.New("spec " + truncate(s) + " has no exact version")
	}
	return name, version, platform, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
