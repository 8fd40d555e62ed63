package report

import (
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
)

const (
	noAssertion = "NOASSERTION"
	// SourceInfoPrefix starts the sourceInfo of every package Vigil writes;
	// the rest is the file that declared the package (sbomin reads it back).
	SourceInfoPrefix = "package found in: "
	imageSPDXID      = "Image"
)

var spdxIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spdxID makes a valid, unique SPDX element id from a readable stem and
// the package's unique reference.
func spdxID(kind, stem, uniq string) common.ElementID {
	s := strings.Trim(spdxIDChars.ReplaceAllString(stem, "-"), "-")
	return common.ElementID(kind + "-" + truncate(s, 60) + "-" + fingerprint(uniq)[:12])
}

func writeSPDX(w io.Writer, r *result.Report, _ Options) error {
	version := r.Tool.Version
	if version == "" {
		version = "unknown"
	}
	name := artifactName(r.Artifact)
	doc := &spdx.Document{
		SPDXVersion:    spdx.Version,
		DataLicense:    spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   name,
		DocumentNamespace: "https://github.com/vigil-scan/vigil/spdx/" + strings.Trim(spdxIDChars.ReplaceAllString(name, "-"), "-") + "-" +
			uuidLike(fingerprint("spdx", r.Artifact.Name, r.Artifact.Digest, r.Artifact.ImageID, r.CreatedAt.UTC().Format(time.RFC3339Nano))),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "vigil-" + version}},
			Created:  r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		},
		DocumentComment: notJudgedText(r),
	}
	image := &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   imageSPDXID,
		PackageVersion:          r.Artifact.Digest,
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
	}
	if p := imagePURL(r.Artifact); p != "" {
		image.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p}}
	}
	doc.Packages = append(doc.Packages, image)
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", imageSPDXID), Relationship: "DESCRIBES",
	})
	contains := func(id common.ElementID) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", imageSPDXID), RefB: common.MakeDocElementID("", string(id)), Relationship: "CONTAINS",
		})
	}
	if o := r.Artifact.OS; o.Known() {
		id := spdxID("OperatingSystem", o.Family, o.Family+"@"+o.Version)
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName: o.Family, PackageSPDXIdentifier: id, PackageVersion: o.Version,
			PackageSupplier: &common.Supplier{Supplier: noAssertion}, PackageDownloadLocation: noAssertion,
			PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
			// No primaryPackagePurpose: the 2.3 spec says OPERATING-SYSTEM but
			// its JSON schema only accepts OPERATING_SYSTEM; either breaks someone.
			PackageDescription: o.Name,
		})
		contains(id)
	}
	refs := newPackageRefs(r.Packages, nil)
	extracted := map[string]string{}
	ids := make([]common.ElementID, len(refs.packages))
	for i, p := range refs.packages {
		pkg := spdxPackage(p, refs.refs[i], extracted)
		doc.Packages = append(doc.Packages, pkg)
		contains(pkg.PackageSPDXIdentifier)
		ids[i] = pkg.PackageSPDXIdentifier
	}
	doc.Relationships = append(doc.Relationships, ownerRelationships(refs.packages, ids)...)
	for _, id := range sortedKeys(extracted) {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: id, ExtractedText: extracted[id], LicenseName: extracted[id],
		})
	}
	return spdxjson.Write(doc, w, spdxjson.Indent("  "))
}

// ownerRelationships state that an OS package CONTAINS each language
// package it installed (inventory.Package.Owner), beside the image's own
// CONTAINS: Syft records the same file-ownership overlap between them.
func ownerRelationships(pkgs []inventory.Package, ids []common.ElementID) []*spdx.Relationship {
	osIDs := map[inventory.Owner]common.ElementID{}
	for i, p := range pkgs {
		if o := (inventory.Owner{Type: p.Type, Name: p.Name}); p.IsOS() && osIDs[o] == "" {
			osIDs[o] = ids[i]
		}
	}
	var out []*spdx.Relationship
	for i, p := range pkgs {
		if p.Owner == nil {
			continue
		}
		if id, ok := osIDs[*p.Owner]; ok {
			out = append(out, &spdx.Relationship{
				RefA: common.MakeDocElementID("", string(id)), RefB: common.MakeDocElementID("", string(ids[i])), Relationship: "CONTAINS",
			})
		}
	}
	return out
}

func spdxPackage(p inventory.Package, ref string, extracted map[string]string) *spdx.Package {
	pkg := &spdx.Package{
		PackageName:             p.Name,
		PackageSPDXIdentifier:   spdxID("Package", p.Type+"-"+p.Name, ref),
		PackageVersion:          p.Version,
		PackageSupplier:         &common.Supplier{Supplier: noAssertion},
		PackageDownloadLocation: noAssertion,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  spdxLicenseDeclared(p.Licenses, extracted),
		PackageCopyrightText:    noAssertion,
		PrimaryPackagePurpose:   "LIBRARY",
	}
	if p.PURL != "" {
		pkg.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: p.PURL}}
	}
	if p.Path != "" {
		pkg.PackageSourceInfo = SourceInfoPrefix + p.Path
	}
	if l := p.Layer; l != nil {
		pkg.PackageComment = "layer " + l.DiffID
		if l.CreatedBy != "" {
			pkg.PackageComment += " created by: " + oneLine(l.CreatedBy)
		}
	}
	return pkg
}

// spdxLicenseDeclared joins a package's licenses into one SPDX expression;
// free-text names become LicenseRefs, declared in extracted (id -> text)
// as SPDX requires for every LicenseRef used.
func spdxLicenseDeclared(ls []string, extracted map[string]string) string {
	var parts []string
	for _, l := range ls {
		if strings.TrimSpace(l) == "" {
			continue
		}
		expr, ok := spdxExpression(l)
		if !ok {
			expr = licenseRef(l)
			extracted[expr] = l
		}
		if isCompound(expr) && len(ls) > 1 {
			expr = "(" + expr + ")"
		}
		parts = append(parts, expr)
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
