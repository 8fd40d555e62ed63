package version

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// compareWithScalibr orders two versions with osv-scalibr's semantic
// package for eco, after valid has accepted both. scalibr is correct on the
// upstream vectors for these ecosystems but accepts any string, so
// validation is ours.
func compareWithScalibr(kind, eco string, valid func(string) string, a, b string) (int, error) {
	for _, v := range []string{a, b} {
		if strings.TrimSpace(v) == "" {
			return 0, invalid(kind, v, "empty")
		}
		if len(v) > maxVersionLen {
			return 0, invalid(kind, v, "too long")
		}
		if valid != nil {
			if why := valid(v); why != "" {
				return 0, invalid(kind, v, why)
			}
		}
	}
	va, err := semantic.Parse(a, eco)
	if err != nil {
		return 0, fmt.Errorf("%w %q under %s rules: %v", ErrInvalid, a, kind, err)
	}
	r, err := va.CompareStr(b)
	if err != nil {
		return 0, fmt.Errorf("%w %q under %s rules: %v", ErrInvalid, b, kind, err)
	}
	return sign(r), nil
}

func matching(re *regexp.Regexp, why string) func(string) string {
	return func(v string) string {
		if re.MatchString(v) {
			return ""
		}
		return why
	}
}

// Gem::Version::ANCHORED_VERSION_PATTERN.
var rubyPattern = regexp.MustCompile(`^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$`)

// RubyGems orders Gem::Version strings.
type RubyGems struct{}

// Compare implements Comparator.
func (RubyGems) Compare(a, b string) (int, error) {
	return compareWithScalibr("RubyGems", "RubyGems", matching(rubyPattern, "not a Gem::Version"), a, b)
}

// NuGet's NuGetVersion grammar: up to four numeric parts, SemVer 2 labels.
var nugetPattern = regexp.MustCompile(`^\s*v?[0-9]+(?:\.[0-9]+){0,3}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$`)

// NuGet orders NuGet package versions.
type NuGet struct{}

// Compare implements Comparator.
func (NuGet) Compare(a, b string) (int, error) {
	return compareWithScalibr("NuGet", "NuGet", matching(nugetPattern, "not a NuGet version"), a, b)
}

// Composer accepts numeric versions with optional stability suffixes, and
// dev branches are not orderable.
var packagistPattern = regexp.MustCompile(`(?i)^\s*v?[0-9]+(?:[.-][0-9A-Za-z]+)*(?:[-+.][0-9A-Za-z.-]*)?\s*$`)

// Packagist orders Composer package versions.
type Packagist struct{}

// Compare implements Comparator.
func (Packagist) Compare(a, b string) (int, error) {
	return compareWithScalibr("Packagist", "Packagist", matching(packagistPattern, "not a Composer version"), a, b)
}

// Dart's pub_semver grammar.
var pubPattern = regexp.MustCompile(`^\s*[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$`)

// Pub orders Dart/Flutter package versions.
type Pub struct{}

// Compare implements Comparator.
func (Pub) Compare(a, b string) (int, error) {
	return compareWithScalibr("Pub", "Pub", matching(pubPattern, "not a pub version"), a, b)
}
