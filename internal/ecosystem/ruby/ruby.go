// Package ruby catalogs Ruby gems: installed gem specifications
// (specifications/*.gemspec) and the specs resolved in Gemfile.lock.
package ruby

import (
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

const (
	// gemspecLimit bounds an installed gemspec; RubyGems writes them with
	// the file list, so a few megabytes is generous.
	gemspecLimit  = 4 << 20
	lockfileLimit = 16 << 20
	maxPackages   = 100_000
)

// Analyzers returns the RubyGems catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{
		ecosystem.FileCataloger{ID: "ruby-gemspec", Rev: 1, Limit: gemspecLimit, Match: isInstalledGemspec, Parse: parseGemspecFile},
		ecosystem.FileCataloger{ID: "ruby-gemfile-lock", Rev: 1, Limit: lockfileLimit, Match: isGemfileLock, Parse: parseGemfileLock},
	}
}

// isInstalledGemspec claims <gem dir>/specifications/<gem>.gemspec, where
// RubyGems records every installed gem (usr/lib/ruby/gems/3.1.0/...,
// usr/local/bundle/..., vendor/bundle/ruby/3.1.0/...), and
// specifications/default/ for the default gems Ruby ships (json, openssl...).
func isInstalledGemspec(path string) bool {
	dir, ok := strings.CutSuffix(path, ".gemspec")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(dir, '/')
	if i < 0 {
		return false
	}
	dir = strings.TrimSuffix(dir[:i], "/default")
	return dir == "specifications" || strings.HasSuffix(dir, "/specifications")
}

func isGemfileLock(path string) bool {
	return path == "Gemfile.lock" || strings.HasSuffix(path, "/Gemfile.lock")
}

func newPackage(name, version, path string, licenses []string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypeGem,
		Ecosystem: ecosystem.RubyGems,
		PURL:      packageurl.NewPackageURL(packageurl.TypeGem, "", name, version, nil, "").ToString(),
		Path:      path,
		Licenses:  licenses,
	}
}
