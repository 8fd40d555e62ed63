package sbomin

import "github.com/vigil-scan/vigil/internal/inventory"

// interner shares the strings and layers that repeat across an SBOM's
// packages (type, ecosystem, arch, declaring file, licences, layer): a
// decoded package gets its own copy of each, which for 190,000 packages
// of a few dozen types and layers was most of the inventory's memory.
// Nothing changes a package's layer or strings after reading, so sharing
// them is safe.
type interner struct {
	strs   map[string]string
	layers map[inventory.LayerRef]*inventory.LayerRef
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

// pkg shares p's repeated parts with earlier packages.
func (in *interner) pkg(p *inventory.Package) {
	p.Type = in.str(p.Type)
	p.Ecosystem = in.str(p.Ecosystem)
	p.Arch = in.str(p.Arch)
	p.Path = in.str(p.Path)
	for i, l := range p.Licenses {
		p.Licenses[i] = in.str(l)
	}
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
