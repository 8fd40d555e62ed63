package ecosystem

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// PackageSet collects the packages of one file once per key (lockfiles
// list the same package at several places in their tree), with a bound on
// the count so a crafted file cannot grow the inventory without limit.
type PackageSet struct {
	Max   int // the most packages accepted; Add fails beyond it
	pkgs  []inventory.Package
	index map[string]int
}

// Add records p under key. When key is already present, merge (if not
// nil) updates the kept package from the new occurrence instead.
func (s *PackageSet) Add(key string, p inventory.Package, merge func(kept *inventory.Package, again inventory.Package)) error {
	if i, ok := s.index[key]; ok {
		if merge != nil {
			merge(&s.pkgs[i], p)
		}
		return nil
	}
	if len(s.pkgs) >= s.Max {
		return fmt.Errorf("more than %d packages", s.Max)
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[key] = len(s.pkgs)
	s.pkgs = append(s.pkgs, p)
	return nil
}

// KeepNonDev is the merge function of collectors whose packages carry
// Metadata only to mark a development dependency: a package stays marked
// only while every occurrence is one.
func KeepNonDev(kept *inventory.Package, again inventory.Package) {
	if again.Metadata == nil {
		kept.Metadata = nil
	}
}

// Packages returns the packages in the order they were first added.
func (s *PackageSet) Packages() []inventory.Package { return s.pkgs }

// Sorted returns the packages by name, then version, so output does not
// depend on the map order JSON and YAML documents decode in.
func (s *PackageSet) Sorted() []inventory.Package {
	SortPackages(s.pkgs)
	return s.pkgs
}

// SortPackages orders packages by name, then version.
func SortPackages(pkgs []inventory.Package) {
	slices.SortFunc(pkgs, func(a, b inventory.Package) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
	})
}
