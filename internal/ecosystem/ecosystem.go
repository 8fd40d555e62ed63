// Package ecosystem holds what every ecosystem shares: the naming rules
// (OSV ecosystem names with distro releases, package-name normalisation) so
// that feed imports and matching agree on keys, and the cataloger shapes
// and parsing helpers the per-ecosystem packages below it build on
// (FileCataloger, StreamCataloger, PackageSet, ScanLines, ExpectDelim,
// executable detection). Those packages hold the catalogers, feed parsers
// and matchers.
package ecosystem

import (
	"regexp"
	"strings"
)

// OSV ecosystem names of language ecosystems.
const (
	Go        = "Go"
	PyPI      = "PyPI"
	NPM       = "npm"
	Maven     = "Maven"
	CratesIO  = "crates.io"
	NuGet     = "NuGet"
	RubyGems  = "RubyGems"
	Packagist = "Packagist"
	Hex       = "Hex"
	Pub       = "Pub"
)

// Base strips the release from a distro ecosystem: "Alpine:v3.10" -> "Alpine",
// "Ubuntu:22.04:LTS" -> "Ubuntu". Language ecosystems are returned unchanged.
func Base(eco string) string {
	if i := strings.IndexByte(eco, ':'); i >= 0 {
		return eco[:i]
	}
	return eco
}

// Release returns the release part of a distro ecosystem ("v3.10" for
// "Alpine:v3.10"), without OSV's ":LTS"/":Pro" style suffixes.
func Release(eco string) string {
	parts := strings.SplitN(eco, ":", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// Canonical normalises an ecosystem name as found in a feed: it drops the
// suffixes OSV adds to some distro releases ("Ubuntu:22.04:LTS" ->
// "Ubuntu:22.04", "Ubuntu:Pro:18.04:LTS" -> "Ubuntu:18.04") so that feed
// records and image OS releases meet on one key.
func Canonical(eco string) string {
	parts := strings.Split(eco, ":")
	if len(parts) <= 2 {
		return eco
	}
	if parts[0] == "Ubuntu" {
		for _, p := range parts[1:] {
			if p != "" && p[0] >= '0' && p[0] <= '9' {
				return "Ubuntu:" + p
			}
		}
	}
	return parts[0] + ":" + parts[1]
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// NormalizeName returns the key a package name is stored and looked up
// under in the ecosystem: PEP 503 for PyPI, lower case where the registry is
// case-insensitive (npm, NuGet, Packagist, crates.io dashes kept), exact
// otherwise (Go module paths, Maven group:artifact, distro packages).
func NormalizeName(eco, name string) string {
	name = strings.TrimSpace(name)
	switch Base(eco) {
	case PyPI:
		return strings.ToLower(pep503.ReplaceAllString(name, "-"))
	case NPM, NuGet, Packagist, Hex, Pub:
		return strings.ToLower(name)
	case CratesIO:
		// crates.io treats - and _ as the same name and is case-insensitive.
		return strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	}
	return name
}
