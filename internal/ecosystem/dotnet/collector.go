package dotnet

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// collector gathers one package per name@version (NuGet names are
// case-insensitive) with a bound on the count.
type collector struct {
	pkgs []inventory.Package
	seen map[string]bool
}

func (c *collector) add(p, name, version string) error {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	key := strings.ToLower(name) + "@" + strings.ToLower(version)
	if c.seen[key] {
		return nil
	}
	if len(c.pkgs) >= maxPackages {
		return fmt.Errorf("more than %d packages", maxPackages)
	}
	c.seen[key] = true
	c.pkgs = append(c.pkgs, inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypeNuGet,
		Ecosystem: ecosystem.NuGet,
		PURL:      packageurl.NewPackageURL(packageurl.TypeNuget, "", name, version, nil, "").ToString(),
		Path:      p,
	})
	return nil
}

// sorted returns the packages in a stable order: JSON objects are decoded
// into maps, whose order varies.
func (c *collector) sorted() []inventory.Package {
	slices.SortFunc(c.pkgs, func(a, b inventory.Package) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
	})
	return c.pkgs
}
