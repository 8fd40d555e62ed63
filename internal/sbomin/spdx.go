package sbomin

import (
	"bytes"
	"cmp"
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
//
// Relationships, which may come after the packages they name, are kept
// only as far as they matter (CONTAINS as pairs of numbers, DESCRIBES as
// a set), with every SPDX id numbered once: the library's relationship
// structs and a map of them per contained element were a third of the
// memory of a 400,000-package tag-value SBOM.
type spdxCollector struct {
	name string
	// idNums numbers the SPDX ids packages and relationships name.
	idNums    map[string]int32
	described map[int32]bool
	// contains lists the CONTAINS relationships as (container,
	// contained) id numbers, in document order, for the OS package that
	// installed a language package (Vigil, Syft).
	contains [][2]int32
	licenses map[string]string
	doc      document
	// The SPDX id number of each entry (package other than the OS), and
	// the entry's package (-1 when it is not one).
	entryID  []int32
	entryPkg []int32
	// images are the entries that may be the described image: no purl,
	// or an image purl.
	images []spdxImage
}

// spdxImage is an entry that is the described image if a relationship
// says so: its name, version and Trivy's "DiffID: <id>" layer annotations.
type spdxImage struct {
	id            int32
	entry         int
	name, version string
	diffIDs       []string
}

// idNum numbers id, the same number for the same id.
func (c *spdxCollector) idNum(id spdxcommon.ElementID) int32 {
	if n, ok := c.idNums[string(id)]; ok {
		return n
	}
	if c.idNums == nil {
		c.idNums = map[string]int32{}
	}
	n := int32(len(c.idNums))
	c.idNums[strings.Clone(string(id))] = n
	return n
}

func (c *spdxCollector) addRelationship(r *spdx.Relationship) {
	if r == nil {
		return
	}
	switch strings.ToUpper(r.Relationship) {
	case "CONTAINS":
		c.contains = append(c.contains, [2]int32{c.idNum(r.RefA.ElementRefID), c.idNum(r.RefB.ElementRefID)})
	case "DESCRIBES":
		if r.RefA.ElementRefID == "DOCUMENT" {
			c.describe(r.RefB.ElementRefID)
		}
	case "DESCRIBED_BY":
		if r.RefB.ElementRefID == "DOCUMENT" {
			c.describe(r.RefA.ElementRefID)
		}
	}
}

func (c *spdxCollector) describe(id spdxcommon.ElementID) {
	if c.described == nil {
		c.described = map[int32]bool{}
	}
	c.described[c.idNum(id)] = true
}

func (c *spdxCollector) addLicense(l *spdx.OtherLicense) {
	if l != nil && l.LicenseName != "" && l.LicenseName != noAssertion {
		if c.licenses == nil {
			c.licenses = map[string]string{}
		}
		c.licenses[l.LicenseIdentifier] = l.LicenseName
	}
}

// grow makes room for n more packages (the streaming readers count them).
func (c *spdxCollector) grow(n int) {
	c.doc.pkgs.grow(n)
	c.entryID = slices.Grow(c.entryID, n)
	c.entryPkg = slices.Grow(c.entryPkg, n)
}

// packages is how many packages were collected: the described image,
// when it is among them, is none.
func (c *spdxCollector) packages() int {
	return len(c.doc.pkgs.pkgs) - len(c.images)
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
	id := c.idNum(p.PackageSPDXIdentifier)
	purl := spdxPURL(p)
	if purl == "" || strings.HasPrefix(purl, "pkg:oci/") || strings.HasPrefix(purl, "pkg:docker/") {
		img := spdxImage{id: id, entry: len(c.entryPkg), name: p.PackageName, version: p.PackageVersion}
		for _, a := range p.Annotations {
			// Trivy lists the image's layers as "DiffID: <id>" annotations.
			if d, ok := strings.CutPrefix(a.AnnotationComment, "DiffID: "); ok {
				img.diffIDs = append(img.diffIDs, strings.TrimSpace(d))
			}
		}
		c.images = append(c.images, img)
	}
	c.entryID = append(c.entryID, id)
	c.entryPkg = append(c.entryPkg, int32(c.doc.pkgs.add(spdxEntry(p, purl))))
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
	if len(c.contains) == 0 {
		return
	}
	b := &c.doc.pkgs
	// Where each id is among the entries (the last entry of an id wins,
	// as a map of all of them would; -1 for none).
	at := make([]int32, len(c.idNums))
	for i := range at {
		at[i] = -1
	}
	for i, id := range c.entryID {
		if c.entryPkg[i] != -2 {
			at[id] = int32(i)
		}
	}
	c.idNums = nil
	// Each element's containers, in document order.
	slices.SortStableFunc(c.contains, func(x, y [2]int32) int { return cmp.Compare(x[1], y[1]) })
	for i, p := range c.entryPkg {
		if p < 0 {
			continue
		}
		id := c.entryID[i]
		k, _ := slices.BinarySearchFunc(c.contains, id, func(r [2]int32, id int32) int { return cmp.Compare(r[1], id) })
		for ; k < len(c.contains) && c.contains[k][1] == id; k++ {
			j := at[c.contains[k][0]]
			if j < 0 || int(j) == i {
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
