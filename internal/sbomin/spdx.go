package sbomin

import (
	"bytes"
	"fmt"
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
// any order, keeping each package only in its compact form, so the
// streaming reader (spdxstream.go) and the whole read share one logic.
type spdxCollector struct {
	name      string
	described map[spdxcommon.ElementID]bool
	// containedBy: what CONTAINS each element, in order, for the OS
	// package that installed a language package (Vigil, Syft).
	containedBy map[spdxcommon.ElementID][]spdxcommon.ElementID
	licenses    map[string]string
	items       []spdxItem
}

// spdxItem is a package, kept as its entry (licence not yet resolved
// against the document's other licences), plus what the OS and the
// described image need when it may be one of them.
type spdxItem struct {
	id    spdxcommon.ElementID
	isOS  bool
	image bool // could be the described image: no purl, or an image purl
	e     entry
	// OS or image package: its name, version and description, and
	// Trivy's "DiffID: <id>" layer annotations.
	name, version, description string
	diffIDs                    []string
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

func (c *spdxCollector) addPackage(p *spdx.Package) {
	if p == nil {
		return
	}
	purl := spdxPURL(p)
	it := spdxItem{id: p.PackageSPDXIdentifier, isOS: isSPDXOS(p)}
	if it.isOS {
		it.name, it.version, it.description = p.PackageName, p.PackageVersion, p.PackageDescription
		c.items = append(c.items, it)
		return
	}
	if purl == "" || strings.HasPrefix(purl, "pkg:oci/") || strings.HasPrefix(purl, "pkg:docker/") {
		it.image = true
		it.name, it.version = p.PackageName, p.PackageVersion
		for _, a := range p.Annotations {
			// Trivy lists the image's layers as "DiffID: <id>" annotations.
			if d, ok := strings.CutPrefix(a.AnnotationComment, "DiffID: "); ok {
				it.diffIDs = append(it.diffIDs, strings.TrimSpace(d))
			}
		}
	}
	it.e = spdxEntry(p, purl)
	c.items = append(c.items, it)
}

func (c *spdxCollector) document() *document {
	doc := &document{}
	doc.artifact.Name = c.name
	entryOf := map[spdxcommon.ElementID]int{}
	var ids []spdxcommon.ElementID
	for _, it := range c.items {
		switch {
		case it.isOS:
			if doc.os.Family == "" {
				doc.os = inventory.OS{Family: it.name, Version: it.version, Name: it.description}
			}
		case it.image && c.described[it.id]:
			doc.artifact.Name = it.name
			if strings.HasPrefix(it.version, "sha256:") {
				doc.artifact.Digest = it.version
			}
			doc.diffIDs = append(doc.diffIDs, it.diffIDs...)
		default:
			e := it.e
			if len(e.licenses) == 1 {
				if name, ok := c.licenses[e.licenses[0]]; ok {
					e.licenses = []string{name}
				}
			}
			entryOf[it.id] = len(doc.entries)
			doc.entries = append(doc.entries, e)
			ids = append(ids, it.id)
		}
	}
	for i, id := range ids {
		for _, a := range c.containedBy[id] {
			if j, ok := entryOf[a]; ok && j != i {
				doc.entries[i].ownerEntry = j + 1
				break
			}
		}
	}
	return doc
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
