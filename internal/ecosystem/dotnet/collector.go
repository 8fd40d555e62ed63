package dotnet

import (
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// collector gathers one package per name@version (NuGet names are
// case-insensitive) with a bound on the count.
type collector struct{ set ecosystem.PackageSet }

func (c *collector) add(p, name, version string) error {
	c.set.Max = maxPackages
	key := strings.ToLower(name) + "@" + strings.ToLower(version)
	return c.set.Add(key, inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypeNuGet,
		Ecosystem: ecosystem.NuGet,
		PURL:      packageurl.NewPackageURL(packageurl.TypeNuget, "", name, version, nil, "").ToString(),
		Path:      p,
	}, nil)
}

// sorted returns the packages in a stable order: JSON objects are decoded
// into maps, whose order varies.
func (c *collector) sorted() []inventory.Package { return c.set.Sorted() }
