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
	doc := &document{}
	doc.artifact.Name = d.DocumentName
	described := map[spdxcommon.ElementID]bool{}
	// containedBy: what CONTAINS each element, in order, for the OS
	// package that installed a language package (Vigil, Syft).
	containedBy := map[spdxcommon.ElementID][]spdxcommon.ElementID{}
	for _, r := range d.Relationships {
		if r == nil {
			continue
		}
		switch strings.ToUpper(r.Relationship) {
		case "CONTAINS":
			containedBy[r.RefB.ElementRefID] = append(containedBy[r.RefB.ElementRefID], r.RefA.ElementRefID)
		case "DESCRIBES":
			if r.RefA.ElementRefID == "DOCUMENT" {
				described[r.RefB.ElementRefID] = true
			}
		case "DESCRIBED_BY":
			if r.RefB.ElementRefID == "DOCUMENT" {
				described[r.RefA.ElementRefID] = true
			}
		}
	}
	licenses := map[string]string{}
	for _, l := range d.OtherLicenses {
		if l != nil && l.LicenseName != "" && l.LicenseName != noAssertion {
			licenses[l.LicenseIdentifier] = l.LicenseName
		}
	}
	entryOf := map[spdxcommon.ElementID]int{}
	var ids []spdxcommon.ElementID
	for _, p := range d.Packages {
		if p == nil {
			continue
		}
		purl := spdxPURL(p)
		switch {
		case isSPDXOS(p):
			if doc.os.Family == "" {
				doc.os = inventory.OS{Family: p.PackageName, Version: p.PackageVersion, Name: p.PackageDescription}
			}
		case described[p.PackageSPDXIdentifier] && (purl == "" || strings.HasPrefix(purl, "pkg:oci/") || strings.HasPrefix(purl, "pkg:docker/")):
			doc.artifact.Name = p.PackageName
			if strings.HasPrefix(p.PackageVersion, "sha256:") {
				doc.artifact.Digest = p.PackageVersion
			}
			for _, a := range p.Annotations {
				// Trivy lists the image's layers as "DiffID: <id>" annotations.
				if d, ok := strings.CutPrefix(a.AnnotationComment, "DiffID: "); ok {
					doc.diffIDs = append(doc.diffIDs, strings.TrimSpace(d))
				}
			}
		default:
			entryOf[p.PackageSPDXIdentifier] = len(doc.entries)
			doc.entries = append(doc.entries, spdxEntry(p, purl, licenses))
			ids = append(ids, p.PackageSPDXIdentifier)
		}
	}
	for i, id := range ids {
		for _, a := range containedBy[id] {
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

func spdxEntry(p *spdx.Package, purl string, otherLicenses map[string]string) entry {
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
		if name, ok := otherLicenses[l]; ok {
			l = name
		}
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
