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

// document is an SBOM in the form every reader produces: the described
// image, its operating system, and its packages, each turned into an
// inventory package as it is read (builder.add), so a large SBOM is held
// once, as packages, rather than also as decoded entries.
type document struct {
	artifact inventory.Artifact
	// os is the operating-system component; zero when the SBOM has none.
	os inventory.OS
	// diffIDs lists the image's layers in order, when the SBOM says.
	diffIDs []string
	pkgs    builder
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
	// properties state it.
	owner *inventory.Owner
}

// builder turns entries into packages as they are read. What depends on
// the whole document (the image's OS, which decides the OS packages'
// ecosystem; whether Vigil wrote it, which decides assumed source
// packages) is left pending in a byte of flags per package and settled by
// finish; warnings are derived from the flags then too.
type builder struct {
	pkgs  []inventory.Package
	flags []uint8
	// osOf is, per package, the index in oses of the distro its purl
	// names (-1 for none): the votes for the image's OS.
	osOf  []int32
	oses  []inventory.OS
	osIdx map[inventory.OS]int32
	in    interner
}

// Package flags.
const (
	// osEcosystemPending: an OS package whose ecosystem is the image's
	// distro release, known once the document is read.
	osEcosystemPending uint8 = 1 << iota
	// ownSourcePending: an apk or deb package with no source stated; it is
	// its own source unless Vigil wrote the SBOM.
	ownSourcePending
	warnNoPURL
	warnBadPURL
	warnUnsupported
)

// grow makes room for n more packages: streaming readers count the
// packages first, so the slice is not copied while it grows (a copy of
// 700,000 packages held two slices of them at once).
func (b *builder) grow(n int) {
	b.pkgs = slices.Grow(b.pkgs, n)
	b.flags = slices.Grow(b.flags, n)
	b.osOf = slices.Grow(b.osOf, n)
}

// add turns e into a package and returns its index, or -1 when e is not
// a package (a structural entry without a purl).
func (b *builder) add(e entry) int {
	var (
		pkg  inventory.Package
		fl   uint8
		osID = int32(-1)
	)
	switch {
	case e.purl == "":
		if e.structural || e.name == "" {
			return -1
		}
		pkg = inventory.Package{Name: joinGroup(e.group, e.name, "/"), Version: e.version}
		fl |= warnNoPURL
	default:
		pp, err := fromPURL(e.purl)
		if err != nil {
			pkg = inventory.Package{Name: joinGroup(e.group, e.name, "/"), Version: e.version, PURL: e.purl}
			fl |= warnBadPURL
			break
		}
		pkg = pp.pkg
		if pp.supported {
			pkg.Name = chooseName(pkg, e)
		} else {
			// Nothing matches it; show it as the SBOM names it.
			fl |= warnUnsupported
			if e.name != "" {
				pkg.Name = joinGroup(e.group, e.name, "/")
			}
		}
		if e.version != "" {
			pkg.Version = e.version
		}
		osID = b.osID(pp.os)
		if pkg.IsOS() {
			fl |= osEcosystemPending
			pkg.Source = chooseSource(pkg, e.source)
			if pkg.Source == nil && (pkg.Type == inventory.TypeApk || pkg.Type == inventory.TypeDeb) {
				fl |= ownSourcePending
			}
		}
	}
	if e.ecosystem != "" {
		pkg.Ecosystem = e.ecosystem
		fl &^= osEcosystemPending
	}
	pkg.Path = e.path
	pkg.Licenses = e.licenses
	pkg.Layer = e.layer
	if !pkg.IsOS() {
		pkg.Owner = e.owner
	}
	b.in.pkg(&pkg)
	b.pkgs = append(b.pkgs, pkg)
	b.flags = append(b.flags, fl)
	b.osOf = append(b.osOf, osID)
	return len(b.pkgs) - 1
}

func (b *builder) osID(o inventory.OS) int32 {
	if id, ok := b.osIdx[o]; ok {
		return id
	}
	if b.osIdx == nil {
		b.osIdx = map[inventory.OS]int32{}
	}
	id := int32(len(b.oses))
	b.oses = append(b.oses, o)
	b.osIdx[o] = id
	return id
}

// remove drops the packages at the (ascending) indices; the SPDX reader
// learns only from relationships that one is the described image.
func (b *builder) remove(idx []int) {
	if len(idx) == 0 {
		return
	}
	keep, next := 0, 0
	for i := range b.pkgs {
		if next < len(idx) && idx[next] == i {
			next++
			continue
		}
		b.pkgs[keep], b.flags[keep], b.osOf[keep] = b.pkgs[i], b.flags[i], b.osOf[i]
		keep++
	}
	clear(b.pkgs[keep:])
	b.pkgs, b.flags, b.osOf = b.pkgs[:keep], b.flags[:keep], b.osOf[:keep]
}

// warnings counts packages that could not be fully understood, with a few
// examples each.
func (b *builder) warnings() []string {
	var out []string
	say := func(flag uint8, what string, example func(p *inventory.Package) string) {
		var ex []string
		n := 0
		for i, fl := range b.flags {
			if fl&flag == 0 {
				continue
			}
			if n++; len(ex) < 3 {
				ex = append(ex, example(&b.pkgs[i]))
			}
		}
		if n == 0 {
			return
		}
		more := ""
		if n > len(ex) {
			more = ", ..."
		}
		out = append(out, fmt.Sprintf("%d package(s) %s; kept without an ecosystem, not matched (%s%s)", n, what, strings.Join(ex, ", "), more))
	}
	name := func(p *inventory.Package) string { return p.Name }
	purl := func(p *inventory.Package) string { return p.PURL }
	say(warnNoPURL, "have no purl", name)
	say(warnBadPURL, "have an invalid purl", purl)
	say(warnUnsupported, "have a purl type Vigil has no vulnerability data for", purl)
	return out
}

// build settles what waited for the whole document and returns the
// inventory, deriving ecosystems the way internal/image's finish step
// does.
func build(ctx context.Context, doc *document) (*inventory.Inventory, error) {
	b := &doc.pkgs
	if err := checkPackages(ctx, len(b.pkgs)); err != nil {
		return nil, err
	}
	imageOS := b.documentOS(doc.os)
	for i := range b.pkgs {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p, fl := &b.pkgs[i], b.flags[i]
		if fl&osEcosystemPending != 0 {
			p.Ecosystem = b.in.str(osEcosystem(imageOS, b.oses[b.osOf[i]]))
		}
		if fl&ownSourcePending != 0 && !doc.vigil {
			p.Source = b.in.source(inventory.SourcePackage{Name: p.Name, Version: p.Version})
		}
	}
	inv := &inventory.Inventory{SchemaVersion: inventory.SchemaVersion, Artifact: doc.artifact, Packages: b.pkgs}
	if inv.Packages == nil {
		inv.Packages = []inventory.Package{}
	}
	inv.Artifact.OS = imageOS
	inv.Artifact.Layers = layers(doc.diffIDs, inv.Packages)
	inv.Warnings = b.warnings()
	*b = builder{}
	return inv, nil
}

// documentOS is the operating system of the image: the SBOM's OS
// component, completed (or replaced, when absent) by the distro the OS
// packages' purls name most often.
func (b *builder) documentOS(stated inventory.OS) inventory.OS {
	stated.Family = normalizeFamily(stated.Family)
	if stated.Family != "" && (stated.Version != "" || stated.Codename != "") {
		return stated
	}
	counts := make([]int, len(b.oses))
	best := -1
	for _, id := range b.osOf {
		if id < 0 {
			continue
		}
		o := b.oses[id]
		if o.Family == "" || (o.Version == "" && o.Codename == "") {
			continue
		}
		if stated.Family != "" && o.Family != stated.Family {
			continue
		}
		counts[id]++
		if best < 0 || counts[id] > counts[best] {
			best = int(id)
		}
	}
	if best < 0 {
		return stated
	}
	o := b.oses[best]
	o.Name = stated.Name
	return o
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
// qualifier. With neither, build assumes what Vigil's catalogers assume
// when a database names no source: an apk or deb package is its own
// source (unless Vigil wrote the SBOM, which states every source).
func chooseSource(pkg inventory.Package, stated *inventory.SourcePackage) *inventory.SourcePackage {
	if stated != nil && stated.Name != "" {
		s := *stated
		if s.Version == "" {
			s.Version = pkg.Version
		}
		return &s
	}
	return pkg.Source
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
