// Package rust catalogs Rust crates: the dependency lists that
// cargo-auditable embeds in compiled binaries (the .dep-v0 section) and
// Cargo.lock files.
package rust

import (
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

const (
	// lockfileLimit bounds the Cargo.lock read; large workspaces stay
	// well under a few megabytes.
	lockfileLimit = 32 << 20
	// maxPackages caps the crates one file may declare.
	maxPackages = 100_000
)

// Analyzers returns the Cargo.lock and cargo-auditable binary catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{
		ecosystem.FileCataloger{ID: "cargo-lock", Limit: lockfileLimit, Match: isCargoLock, Parse: ParseCargoLock},
		auditableAnalyzer{},
	}
}

// isCargoLock claims Cargo.lock files anywhere (workspaces, vendored apps).
func isCargoLock(path string) bool {
	return path == "Cargo.lock" || strings.HasSuffix(path, "/Cargo.lock")
}

// newPackage builds a crate found in the file at path. source is Cargo's
// source string ("registry+https://...", "git+https://...#rev", "crates.io",
// "local"); an empty source means a local path or workspace member.
func newPackage(path, name, version, source string) inventory.Package {
	if source == "" {
		source = "local"
	}
	return inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypeCargo,
		Ecosystem: ecosystem.CratesIO,
		PURL:      packageurl.NewPackageURL(packageurl.TypeCargo, "", name, version, nil, "").ToString(),
		Path:      path,
		Metadata:  map[string]string{"cargo.source": source},
	}
}

// isRegistry reports whether a source names a package registry (crates.io
// or a mirror) rather than a git checkout or a local path.
func isRegistry(source string) bool {
	return source == "crates.io" || strings.HasPrefix(source, "registry+") || strings.HasPrefix(source, "sparse+")
}

// collector keeps one package per name@version, preferring the registry
// copy when the same version also comes from git or a path.
type collector struct{ set ecosystem.PackageSet }

func (c *collector) add(p inventory.Package) error {
	c.set.Max = maxPackages
	return c.set.Add(p.Name+"@"+p.Version, p, func(kept *inventory.Package, again inventory.Package) {
		if !isRegistry(kept.Metadata["cargo.source"]) && isRegistry(again.Metadata["cargo.source"]) {
			*kept = again
		}
	})
}
