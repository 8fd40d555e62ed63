package sbomin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/report"
)

// Properties other scanners write on CycloneDX components.
const (
	trivyPrefix = "aquasecurity:trivy:"
	syftPath    = "syft:location:0:path"
	syftLayerID = "syft:location:0:layerID"
)

func decodeCycloneDXJSON(b []byte, specVersion string) (*document, error) {
	switch specVersion {
	case "1.2", "1.3", "1.4", "1.5", "1.6", "1.7":
	case "":
		return nil, errors.New("invalid CycloneDX JSON: no specVersion")
	default:
		return nil, fmt.Errorf("CycloneDX specVersion %q is not supported in JSON (want 1.2 to 1.7)", specVersion)
	}
	var bom cdx.BOM
	if err := json.Unmarshal(b, &bom); err != nil {
		return nil, jsonError(b, "CycloneDX JSON", err)
	}
	return fromBOM(&bom)
}

func decodeCycloneDXXML(b []byte) (*document, error) {
	if !bytes.Contains(b, []byte("cyclonedx.org/schema/bom")) {
		return nil, fmt.Errorf("XML without the CycloneDX namespace: %w", ErrNotSBOM)
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(b), cdx.BOMFileFormatXML).Decode(&bom); err != nil {
		return nil, xmlError("CycloneDX XML", err)
	}
	return fromBOM(&bom)
}

// fromBOM reads the image from metadata.component, the operating system
// from the operating-system component, and every other component (nested
// ones too) as a package entry.
func fromBOM(bom *cdx.BOM) (*document, error) {
	doc := &document{}
	if bom.Metadata != nil {
		doc.vigil = writtenByVigil(bom.Metadata.Tools)
		if bom.Metadata.Component != nil {
			imageFromComponent(doc, bom.Metadata.Component)
		}
	}
	if bom.Components != nil {
		addComponents(doc, *bom.Components)
	}
	return doc, nil
}

// addComponents adds components (nested ones too) as package entries; the
// first operating-system component is the OS.
func addComponents(doc *document, cs []cdx.Component) {
	for i := range cs {
		c := &cs[i]
		if c.Type == cdx.ComponentTypeOS {
			if doc.os.Family == "" {
				doc.os = inventory.OS{Family: c.Name, Version: c.Version, Name: c.Description}
			}
		} else {
			doc.pkgs.add(componentEntry(c))
		}
		if c.Components != nil {
			addComponents(doc, *c.Components)
		}
	}
}

// writtenByVigil reports whether the BOM's tools name Vigil.
func writtenByVigil(t *cdx.ToolsChoice) bool {
	if t == nil {
		return false
	}
	if t.Components != nil {
		for _, c := range *t.Components {
			if c.Name == "vigil" {
				return true
			}
		}
	}
	if t.Tools != nil {
		for _, c := range *t.Tools {
			if c.Name == "vigil" {
				return true
			}
		}
	}
	return false
}

// imageFromComponent reads the described image: Vigil writes the digest
// (or image ID) as the version and the rest as vigil:* properties; Trivy
// writes aquasecurity:trivy:* properties, including the layer diff IDs.
func imageFromComponent(doc *document, c *cdx.Component) {
	a := &doc.artifact
	a.Name = joinGroup(c.Group, c.Name, "/")
	if strings.HasPrefix(c.Version, "sha256:") {
		a.Digest = c.Version
	}
	for _, p := range props(c.Properties) {
		switch p.Name {
		case "vigil:image_id", trivyPrefix + "ImageID":
			a.ImageID = p.Value
		case "vigil:platform":
			a.Platform = p.Value
		case "vigil:repo_tag", trivyPrefix + "RepoTag":
			a.RepoTags = append(a.RepoTags, p.Value)
		case trivyPrefix + "RepoDigest":
			a.RepoDigests = append(a.RepoDigests, p.Value)
		case trivyPrefix + "DiffID":
			doc.diffIDs = append(doc.diffIDs, p.Value)
		}
	}
	if a.Digest != "" && a.Digest == a.ImageID {
		// Vigil writes the image ID as the version when there is no digest.
		a.Digest = ""
	}
}

func componentEntry(c *cdx.Component) entry {
	e := entry{
		name: c.Name, group: c.Group, version: c.Version, purl: strings.TrimSpace(c.PackageURL),
		licenses: cdxLicenses(c.Licenses),
	}
	switch c.Type {
	case cdx.ComponentTypeLibrary, cdx.ComponentTypeFramework, "":
	default:
		e.structural = true
	}
	var (
		src      inventory.SourcePackage
		trivySrc trivySource
		layer    inventory.LayerRef
		hasLayer bool
		owner    inventory.Owner
	)
	layer.Index = -1
	for _, p := range props(c.Properties) {
		switch p.Name {
		case report.PropPath:
			e.path = p.Value
		case report.PropEcosystem:
			e.ecosystem = p.Value
		case report.PropSourceName:
			src.Name = p.Value
		case report.PropSourceVersion:
			src.Version = p.Value
		case report.PropOwnerType:
			owner.Type = p.Value
		case report.PropOwnerName:
			owner.Name = p.Value
		case report.PropLayerDiffID, trivyPrefix + "LayerDiffID", syftLayerID:
			layer.DiffID, hasLayer = p.Value, true
		case trivyPrefix + "LayerDigest":
			layer.Digest, hasLayer = p.Value, true
		case report.PropLayerIndex:
			if n, err := strconv.Atoi(p.Value); err == nil && n >= 0 {
				layer.Index = n
			}
		case report.PropLayerCreatedBy:
			layer.CreatedBy = p.Value
		case report.PropLayerBase:
			layer.Base = p.Value == "true"
		case trivyPrefix + "FilePath", syftPath:
			if e.path == "" {
				e.path = p.Value
			}
		default:
			trivySrc.set(p.Name, p.Value)
		}
	}
	e.path = strings.TrimPrefix(e.path, "/")
	if src.Name == "" {
		src = trivySrc.source()
	}
	if src.Name != "" {
		e.source = &src
	}
	if hasLayer {
		e.layer = &layer
	}
	if owner.Type != "" && owner.Name != "" {
		e.owner = &owner
	}
	return e
}

// trivySource collects Trivy's SrcName/SrcVersion/SrcRelease/SrcEpoch.
type trivySource struct{ name, version, release, epoch string }

func (t *trivySource) set(key, value string) {
	switch strings.TrimPrefix(key, trivyPrefix) {
	case "SrcName":
		t.name = value
	case "SrcVersion":
		t.version = value
	case "SrcRelease":
		t.release = value
	case "SrcEpoch":
		t.epoch = value
	}
}

// source formats the source version as [epoch:]version[-release].
func (t trivySource) source() inventory.SourcePackage {
	if t.name == "" {
		return inventory.SourcePackage{}
	}
	v := t.version
	if t.release != "" {
		v += "-" + t.release
	}
	if t.epoch != "" && t.epoch != "0" && v != "" {
		v = t.epoch + ":" + v
	}
	return inventory.SourcePackage{Name: t.name, Version: v}
}

func props(p *[]cdx.Property) []cdx.Property {
	if p == nil {
		return nil
	}
	return *p
}

// cdxLicenses returns license IDs, names or the expression as written.
func cdxLicenses(ls *cdx.Licenses) []string {
	if ls == nil {
		return nil
	}
	var out []string
	for _, l := range *ls {
		switch {
		case l.Expression != "":
			out = append(out, l.Expression)
		case l.License != nil && l.License.ID != "":
			out = append(out, l.License.ID)
		case l.License != nil && l.License.Name != "":
			out = append(out, l.License.Name)
		}
	}
	return out
}
