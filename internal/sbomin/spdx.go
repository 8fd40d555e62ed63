package sbomin

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	spdxcommon "github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
	"github.com/spdx/tools-golang/tagvalue"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/report"
)

// trivySourcePrefix starts the sourceInfo Trivy writes for OS packages:
// "built package from: openssl 1.1.1d-r2".
const trivySourcePrefix = "built package from: "

func decodeSPDXJSON(b []byte, version string) (doc *document, err error) {
	switch version {
	case "SPDX-2.1", "SPDX-2.2", "SPDX-2.3":
	default:
		return nil, fmt.Errorf("spdxVersion %q is not supported (want SPDX-2.1 to SPDX-2.3)", version)
	}
	defer recoverParser("SPDX JSON", &err)
	d, err := spdxjson.Read(bytes.NewReader(b))
	if err != nil {
		return nil, jsonError(b, "SPDX JSON", err)
	}
	return fromSPDX(d), nil
}

func decodeSPDXTagValue(b []byte) (doc *document, err error) {
	defer recoverParser("SPDX tag-value", &err)
	d, err := tagvalue.Read(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("invalid SPDX tag-value: %w", err)
	}
	return fromSPDX(d), nil
}

// recoverParser turns a panic inside a third-party parser into an error:
// a malformed SBOM must never take the scan down.
func recoverParser(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("invalid %s: parser failed: %v", what, r)
	}
}

// fromSPDX reads the described package as the image, packages whose
// purpose is OPERATING-SYSTEM (or Vigil's and Trivy's OperatingSystem-
// ids) as the OS, and every other package as an entry.
func fromSPDX(d *spdx.Document) *document {
	var c spdxCollector
	c.name = d.DocumentName
	for _, r := range d.Relationships {
		c.addRelationship(r)
	}
	for _, l := range d.OtherLicenses {
		c.addLicense(l)
	}
	for _, p := range d.Packages {
		c.addPackage(p)
	}
	return c.document()
}

// spdxCollector gathers what fromSPDX needs from a document's parts in
// any order, turning each package into an inventory package as it comes,
// so the streaming reader (spdxstream.go) and the whole read share one
// logic.
type spdxCollector struct {
	name      string
	described map[spdxcommon.ElementID]bool
	// containedBy: what CONTAINS each element, in order, for the OS
	// package that installed a language package (Vigil, Syft).
	containedBy map[spdxcommon.ElementID][]spdxcommon.ElementID
	licenses    map[string]string
	doc         document
	// The SPDX ids of the entries (packages other than the OS), end to
	// end in one buffer (idEnd[i] is where entry i's ends), and each
	// entry's package (-1 when it is not one): relationships, which may
	// come after the packages, name them.
	ids      []byte
	idEnd    []uint32
	entryPkg []int32
	// images are the entries that may be the described image: no purl,
	// or an image purl.
	images []spdxImage
}

// spdxImage is an entry that is the described image if a relationship
// says so: its name, version and Trivy's "DiffID: <id>" layer annotations.
type spdxImage struct {
	id            spdxcommon.ElementID
	entry         int
	name, version string
	diffIDs       []string
}

func (c *spdxCollector) addRelationship(r *spdx.Relationship) {
	if r == nil {
		return
	}
	if c.described == nil {
		c.described = map[spdxcommon.ElementID]bool{}
		c.containedBy = map[spdxcommon.ElementID][]spdxcommon.ElementID{}
	}
	switch strings.ToUpper(r.Relationship) {
	case "CONTAINS":
		c.containedBy[r.RefB.ElementRefID] = append(c.containedBy[r.RefB.ElementRefID], r.RefA.ElementRefID)
	case "DESCRIBES":
		if r.RefA.ElementRefID == "DOCUMENT" {
			c.described[r.RefB.ElementRefID] = true
		}
	case "DESCRIBED_BY":
		if r.RefB.ElementRefID == "DOCUMENT" {
			c.described[r.RefA.ElementRefID] = true
		}
	}
}

func (c *spdxCollector) addLicense(l *spdx.OtherLicense) {
	if l != nil && l.LicenseName != "" && l.LicenseName != noAssertion {
		if c.licenses == nil {
			c.licenses = map[string]string{}
		}
		c.licenses[l.LicenseIdentifier] = l.LicenseName
	}
}

// grow makes room for n more packages (the streaming reader counts them).
func (c *spdxCollector) grow(n int) {
	c.doc.pkgs.grow(n)
	c.idEnd = slices.Grow(c.idEnd, n)
	c.entryPkg = slices.Grow(c.entryPkg, n)
}

func (c *spdxCollector) addPackage(p *spdx.Package) {
	if p == nil {
		return
	}
	if isSPDXOS(p) {
		if c.doc.os.Family == "" {
			c.doc.os = inventory.OS{Family: p.PackageName, Version: p.PackageVersion, Name: p.PackageDescription}
		}
		return
	}
	purl := spdxPURL(p)
	if purl == "" || strings.HasPrefix(purl, "pkg:oci/") || strings.HasPrefix(purl, "pkg:docker/") {
		img := spdxImage{id: p.PackageSPDXIdentifier, entry: len(c.entryPkg), name: p.PackageName, version: p.PackageVersion}
		for _, a := range p.Annotations {
			// Trivy lists the image's layers as "DiffID: <id>" annotations.
			if d, ok := strings.CutPrefix(a.AnnotationComment, "DiffID: "); ok {
				img.diffIDs = append(img.diffIDs, strings.TrimSpace(d))
			}
		}
		c.images = append(c.images, img)
	}
	c.ids = append(c.ids, p.PackageSPDXIdentifier...)
	c.idEnd = append(c.idEnd, uint32(len(c.ids)))
	c.entryPkg = append(c.entryPkg, int32(c.doc.pkgs.add(spdxEntry(p, purl))))
}

// entryID is the SPDX id of entry i, as bytes of c.ids.
func (c *spdxCollector) entryID(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = c.idEnd[i-1]
	}
	return c.ids[start:c.idEnd[i]]
}

func (c *spdxCollector) document() *document {
	doc := &c.doc
	doc.artifact.Name = c.name
	b := &doc.pkgs
	// The described image is no package.
	var drop []int
	for _, img := range c.images {
		if !c.described[img.id] {
			continue
		}
		doc.artifact.Name = img.name
		if strings.HasPrefix(img.version, "sha256:") {
			doc.artifact.Digest = img.version
		}
		doc.diffIDs = append(doc.diffIDs, img.diffIDs...)
		if p := c.entryPkg[img.entry]; p >= 0 {
			drop = append(drop, int(p))
		}
		c.entryPkg[img.entry] = -2 // not an entry either
	}
	// A package's declared licence may name one of the document's other
	// licences.
	for i := range b.pkgs {
		if ls := b.pkgs[i].Licenses; len(ls) == 1 {
			if name, ok := c.licenses[ls[0]]; ok {
				b.pkgs[i].Licenses = b.in.licenseList([]string{name})
			}
		}
	}
	c.setOwners()
	b.remove(drop)
	out := c.doc
	*c = spdxCollector{}
	return &out
}

// setOwners gives a language package the OS package that CONTAINS it:
// the first of its containers that is an entry, when that is an OS
// package.
func (c *spdxCollector) setOwners() {
	if len(c.containedBy) == 0 {
		return
	}
	b := &c.doc.pkgs
	// Where each container is among the entries (the last entry of an id
	// wins, as a map of all of them would).
	at := map[spdxcommon.ElementID]int{}
	for _, as := range c.containedBy {
		for _, a := range as {
			at[a] = -1
		}
	}
	for i := range c.entryPkg {
		if c.entryPkg[i] == -2 {
			continue
		}
		if _, ok := at[spdxcommon.ElementID(c.entryID(i))]; ok {
			at[spdxcommon.ElementID(c.entryID(i))] = i
		}
	}
	for i, p := range c.entryPkg {
		if p < 0 {
			continue
		}
		for _, a := range c.containedBy[spdxcommon.ElementID(c.entryID(i))] {
			j := at[a]
			if j < 0 || j == i {
				continue
			}
			if o := c.entryPkg[j]; o >= 0 && b.pkgs[o].IsOS() && !b.pkgs[p].IsOS() && b.pkgs[p].Owner == nil {
				b.pkgs[p].Owner = b.in.owner(inventory.Owner{Type: b.pkgs[o].Type, Name: b.pkgs[o].Name})
			}
			break
		}
	}
}

const noAssertion = "NOASSERTION"

func isSPDXOS(p *spdx.Package) bool {
	switch strings.ToUpper(p.PrimaryPackagePurpose) {
	case "OPERATING-SYSTEM", "OPERATING_SYSTEM":
		return true
	}
	return strings.HasPrefix(string(p.PackageSPDXIdentifier), "OperatingSystem-")
}

func spdxPURL(p *spdx.Package) string {
	for _, r := range p.PackageExternalReferences {
		if r != nil && strings.EqualFold(r.RefType, "purl") {
			return strings.TrimSpace(r.Locator)
		}
	}
	return ""
}

// spdxEntry is p's entry; its declared licence is resolved against the
// document's other licences later (spdxCollector.document).
func spdxEntry(p *spdx.Package, purl string) entry {
	e := entry{name: p.PackageName, version: p.PackageVersion, purl: purl}
	if e.version == noAssertion {
		e.version = ""
	}
	switch strings.ToUpper(p.PrimaryPackagePurpose) {
	case "", "LIBRARY", "FRAMEWORK":
	default:
		e.structural = true
	}
	if path, ok := strings.CutPrefix(p.PackageSourceInfo, report.SourceInfoPrefix); ok {
		e.path = strings.TrimSpace(path)
	} else if src, ok := strings.CutPrefix(p.PackageSourceInfo, trivySourcePrefix); ok {
		name, version, _ := strings.Cut(strings.TrimSpace(src), " ")
		if name != "" {
			e.source = &inventory.SourcePackage{Name: name, Version: strings.TrimSpace(version)}
		}
	}
	e.layer = layerFromComment(p.PackageComment)
	var (
		trivySrc trivySource
		layer    = inventory.LayerRef{Index: -1}
	)
	for _, a := range p.Annotations {
		// Trivy writes "Key: value" annotations: LayerDiffID, SrcName, ...
		k, v, ok := strings.Cut(a.AnnotationComment, ": ")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "LayerDiffID":
			layer.DiffID = v
		case "LayerDigest":
			layer.Digest = v
		case "FilePath":
			if e.path == "" {
				e.path = v
			}
		default:
			trivySrc.set(k, v)
		}
	}
	if e.layer == nil && (layer.DiffID != "" || layer.Digest != "") {
		e.layer = &layer
	}
	if e.source == nil {
		if s := trivySrc.source(); s.Name != "" {
			e.source = &s
		}
	}
	e.path = strings.TrimPrefix(e.path, "/")
	if l := p.PackageLicenseDeclared; l != "" && l != noAssertion && l != "NONE" {
		e.licenses = []string{l}
	}
	return e
}

// layerFromComment reads the comment Vigil writes on a package:
// "layer <diff ID>[ created by: <instruction>]". SPDX has no place for
// the layer's position, so Index is -1.
func layerFromComment(c string) *inventory.LayerRef {
	rest, ok := strings.CutPrefix(c, "layer ")
	if !ok {
		return nil
	}
	diffID, createdBy, _ := strings.Cut(rest, " created by: ")
	diffID = strings.TrimSpace(diffID)
	if diffID == "" || strings.ContainsAny(diffID, " \t\n") {
		return nil
	}
	return &inventory.LayerRef{Index: -1, DiffID: diffID, CreatedBy: createdBy}
}
