package sbomin

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/osrelease"
)

// document is an SBOM in the form both readers produce: the described
// image, its operating system, and its package entries as written.
type document struct {
	artifact inventory.Artifact
	// os is the operating-system component; zero when the SBOM has none.
	os inventory.OS
	// diffIDs lists the image's layers in order, when the SBOM says.
	diffIDs []string
	entries []entry
	// vigil is set for CycloneDX that Vigil wrote: it states every source
	// package, so none is assumed where it states none.
	vigil bool
}

// entry is one package as the SBOM states it.
type entry struct {
	name, group, version string
	purl                 string
	// structural entries (files, applications, the image) without a purl
	// are not packages and are dropped silently.
	structural bool
	path       string
	licenses   []string
	// source and ecosystem are set when the SBOM states them (Vigil and
	// Trivy properties); otherwise they are derived from the purl and OS.
	source    *inventory.SourcePackage
	ecosystem string
	layer     *inventory.LayerRef
	// owner is the OS package that installed it, as Vigil's CycloneDX
	// properties state it; ownerEntry is 1 + the index of the OS package
	// entry that CONTAINS it (SPDX relationships between packages), 0
	// for none.
	owner      *inventory.Owner
	ownerEntry int
}

// warnings counts entries that could not be fully understood, with a few
// examples each.
type warnings struct {
	noPURL, badPURL, unsupported []string
}

func (w *warnings) add(list *[]string, example string) {
	*list = append(*list, example)
}

func (w *warnings) messages() []string {
	var out []string
	say := func(list []string, what string) {
		if len(list) == 0 {
			return
		}
		ex := list[:min(len(list), 3)]
		more := ""
		if len(list) > len(ex) {
			more = ", ..."
		}
		out = append(out, fmt.Sprintf("%d package(s) %s; kept without an ecosystem, not matched (%s%s)", len(list), what, strings.Join(ex, ", "), more))
	}
	say(w.noPURL, "have no purl")
	say(w.badPURL, "have an invalid purl")
	say(w.unsupported, "have a purl type Vigil has no vulnerability data for")
	return out
}

// build turns a decoded document into an inventory, deriving ecosystems
// the way internal/image's finish step does.
func build(ctx context.Context, doc *document) (*inventory.Inventory, error) {
	// Packages are sized once: growing the slice of 120,000 packages by
	// appending copied it a dozen times, the peak of a large sbom-scan.
	inv := &inventory.Inventory{SchemaVersion: inventory.SchemaVersion, Artifact: doc.artifact, Packages: make([]inventory.Package, 0, len(doc.entries))}
	parsed := make([]purlPackage, len(doc.entries))
	parseErr := make([]error, len(doc.entries))
	for i, e := range doc.entries {
		if e.purl != "" {
			parsed[i], parseErr[i] = fromPURL(e.purl)
		}
	}
	imageOS := documentOS(doc.os, parsed)
	inv.Artifact.OS = imageOS
	var (
		warn warnings
		in   interner
	)
	for i, e := range doc.entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var pkg inventory.Package
		switch {
		case e.purl == "":
			if e.structural || e.name == "" {
				continue
			}
			pkg = inventory.Package{Name: joinGroup(e.group, e.name, "/"), Version: e.version}
			warn.add(&warn.noPURL, pkg.Name)
		case parseErr[i] != nil:
			pkg = inventory.Package{Name: joinGroup(e.group, e.name, "/"), Version: e.version, PURL: e.purl}
			warn.add(&warn.badPURL, e.purl)
		default:
			pp := parsed[i]
			pkg = pp.pkg
			if pp.supported {
				pkg.Name = chooseName(pkg, e)
			} else {
				// Nothing matches it; show it as the SBOM names it.
				warn.add(&warn.unsupported, e.purl)
				if e.name != "" {
					pkg.Name = joinGroup(e.group, e.name, "/")
				}
			}
			if e.version != "" {
				pkg.Version = e.version
			}
			if pkg.IsOS() {
				pkg.Ecosystem = osEcosystem(imageOS, pp.os)
				pkg.Source = chooseSource(pkg, e.source, !doc.vigil)
			}
		}
		if e.ecosystem != "" {
			pkg.Ecosystem = e.ecosystem
		}
		pkg.Path = e.path
		pkg.Licenses = e.licenses
		pkg.Layer = e.layer
		if !pkg.IsOS() {
			pkg.Owner = e.owner
			if o := e.ownerEntry - 1; o >= 0 && o < len(parsed) && parseErr[o] == nil && parsed[o].pkg.IsOS() && pkg.Owner == nil {
				pkg.Owner = &inventory.Owner{Type: parsed[o].pkg.Type, Name: chooseName(parsed[o].pkg, doc.entries[o])}
			}
		}
		in.pkg(&pkg)
		inv.Packages = append(inv.Packages, pkg)
	}
	inv.Artifact.Layers = layers(doc.diffIDs, inv.Packages)
	inv.Warnings = warn.messages()
	return inv, nil
}

// documentOS is the operating system of the image: the SBOM's OS
// component, completed (or replaced, when absent) by the distro the OS
// packages' purls name most often.
func documentOS(stated inventory.OS, parsed []purlPackage) inventory.OS {
	stated.Family = normalizeFamily(stated.Family)
	if stated.Family != "" && (stated.Version != "" || stated.Codename != "") {
		return stated
	}
	counts := map[inventory.OS]int{}
	var best inventory.OS
	for _, p := range parsed {
		o := p.os
		if o.Family == "" || (o.Version == "" && o.Codename == "") {
			continue
		}
		if stated.Family != "" && o.Family != stated.Family {
			continue
		}
		counts[o]++
		if counts[o] > counts[best] {
			best = o
		}
	}
	if best.Family == "" {
		return stated
	}
	best.Name = stated.Name
	return best
}

// osEcosystem gives an OS package the image's distro ecosystem, as
// internal/image does, unless its purl names a different distribution.
func osEcosystem(image, fromPURL inventory.OS) string {
	if fromPURL.Family != "" && image.Family != "" && fromPURL.Family != image.Family &&
		(fromPURL.Version != "" || fromPURL.Codename != "") {
		return osrelease.Ecosystem(fromPURL)
	}
	if image.Family == "" {
		return osrelease.Ecosystem(fromPURL)
	}
	return osrelease.Ecosystem(image)
}

// chooseName keeps the name as the SBOM spells it when it is the purl's
// name up to the ecosystem's normalisation (PyPI "Flask" for "flask"),
// and the purl's name otherwise (tools differ on where a Maven group or
// npm scope goes).
func chooseName(pkg inventory.Package, e entry) string {
	sep := "/"
	if pkg.Type == inventory.TypeMaven {
		sep = ":"
	}
	want := ecosystem.NormalizeName(pkg.Ecosystem, pkg.Name)
	for _, n := range []string{joinGroup(e.group, e.name, sep), e.name} {
		if n != "" && ecosystem.NormalizeName(pkg.Ecosystem, n) == want {
			return n
		}
	}
	return pkg.Name
}

func joinGroup(group, name, sep string) string {
	if group == "" || strings.HasPrefix(name, group+sep) {
		return name
	}
	return group + sep + name
}

// chooseSource prefers what the SBOM states, then the purl's upstream
// qualifier, then (when assume is set) what Vigil's catalogers assume when
// a database names no source: an apk or deb package is its own source.
func chooseSource(pkg inventory.Package, stated *inventory.SourcePackage, assume bool) *inventory.SourcePackage {
	if stated != nil && stated.Name != "" {
		s := *stated
		if s.Version == "" {
			s.Version = pkg.Version
		}
		return &s
	}
	if pkg.Source != nil {
		return pkg.Source
	}
	if assume && (pkg.Type == inventory.TypeApk || pkg.Type == inventory.TypeDeb) {
		return &inventory.SourcePackage{Name: pkg.Name, Version: pkg.Version}
	}
	return nil
}

// layers lists the image's layers: those the SBOM declares in order, or
// else those the packages were attributed to with a known position. It
// also fills in the position of package layers the list names.
func layers(diffIDs []string, pkgs []inventory.Package) []inventory.Layer {
	var out []inventory.Layer
	if len(diffIDs) > 0 {
		index := map[string]int{}
		for i, d := range diffIDs {
			out = append(out, inventory.Layer{Index: i, DiffID: d})
			index[d] = i
		}
		for i := range pkgs {
			if l := pkgs[i].Layer; l != nil && l.Index < 0 {
				if n, ok := index[l.DiffID]; ok {
					l.Index = n
				}
			}
		}
		return out
	}
	seen := map[int]bool{}
	for _, p := range pkgs {
		if l := p.Layer; l != nil && l.Index >= 0 && !seen[l.Index] {
			seen[l.Index] = true
			out = append(out, inventory.Layer{Index: l.Index, DiffID: l.DiffID, Digest: l.Digest, CreatedBy: l.CreatedBy, Base: l.Base})
		}
	}
	slices.SortFunc(out, func(a, b inventory.Layer) int { return cmp.Compare(a.Index, b.Index) })
	return out
}
