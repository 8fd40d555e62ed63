package sbomin

import (
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// interner shares the strings, layers, source packages, owners and
// licence lists that repeat across an SBOM's packages: a decoded package
// gets its own copy of each, which for 190,000 packages of a few dozen
// types and layers was most of the inventory's memory. A package's name
// and version are cut from its purl when the purl spells them, so they
// cost no memory of their own. Nothing changes a package's strings,
// source, owner, licences or layer after reading, so sharing them is safe.
type interner struct {
	strs     map[string]string
	layers   map[inventory.LayerRef]*inventory.LayerRef
	sources  map[inventory.SourcePackage]*inventory.SourcePackage
	owners   map[inventory.Owner]*inventory.Owner
	licenses map[string][]string
}

func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if in.strs == nil {
		in.strs = map[string]string{}
	}
	if v, ok := in.strs[s]; ok {
		return v
	}
	in.strs[s] = s
	return s
}

// source shares equal source packages.
func (in *interner) source(s inventory.SourcePackage) *inventory.SourcePackage {
	if v, ok := in.sources[s]; ok {
		return v
	}
	if in.sources == nil {
		in.sources = map[inventory.SourcePackage]*inventory.SourcePackage{}
	}
	s.Name, s.Version = in.str(s.Name), in.str(s.Version)
	p := &s
	in.sources[s] = p
	return p
}

// owner shares equal owners.
func (in *interner) owner(o inventory.Owner) *inventory.Owner {
	if v, ok := in.owners[o]; ok {
		return v
	}
	if in.owners == nil {
		in.owners = map[inventory.Owner]*inventory.Owner{}
	}
	o.Type, o.Name = in.str(o.Type), in.str(o.Name)
	p := &o
	in.owners[o] = p
	return p
}

// pkg shares p's repeated parts with earlier packages.
func (in *interner) pkg(p *inventory.Package) {
	p.Name = within(p.PURL, p.Name)
	p.Version = within(p.PURL, p.Version)
	p.Type = in.str(p.Type)
	p.Ecosystem = in.str(p.Ecosystem)
	p.Arch = in.str(p.Arch)
	p.Path = in.str(p.Path)
	if p.Source != nil {
		p.Source = in.source(*p.Source)
	}
	if p.Owner != nil {
		p.Owner = in.owner(*p.Owner)
	}
	p.Licenses = in.licenseList(p.Licenses)
	if p.Layer != nil {
		if in.layers == nil {
			in.layers = map[inventory.LayerRef]*inventory.LayerRef{}
		}
		if l, ok := in.layers[*p.Layer]; ok {
			p.Layer = l
		} else {
			in.layers[*p.Layer] = p.Layer
		}
	}
}

// licenseList shares equal licence lists.
func (in *interner) licenseList(ls []string) []string {
	if len(ls) == 0 {
		return ls
	}
	key := ls[0]
	if len(ls) > 1 {
		key = strings.Join(ls, "\x00")
	}
	if v, ok := in.licenses[key]; ok {
		return v
	}
	if in.licenses == nil {
		in.licenses = map[string][]string{}
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = in.str(l)
	}
	in.licenses[key] = out
	return out
}

// within returns s as a substring of purl when purl spells it, so the
// package keeps one string (the purl) where it had three.
func within(purl, s string) string {
	if s == "" || len(s) > len(purl) {
		return s
	}
	if i := strings.Index(purl, s); i >= 0 {
		return purl[i : i+len(s)]
	}
	return s
}
