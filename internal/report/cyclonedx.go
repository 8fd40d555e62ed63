package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-scan/vigil/internal/cvss"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Property names Vigil adds to CycloneDX components; sbomin reads them back.
const (
	PropLayerDiffID    = "vigil:layer:diff_id"
	PropLayerIndex     = "vigil:layer:index"
	PropLayerCreatedBy = "vigil:layer:created_by"
	PropLayerBase      = "vigil:layer:base"
	PropPath           = "vigil:path"
	PropSourceName     = "vigil:source:name"
	PropSourceVersion  = "vigil:source:version"
	PropEcosystem      = "vigil:ecosystem"
	// PropOwnerType and PropOwnerName name the OS package that installed
	// a language package (inventory.Package.Owner).
	PropOwnerType     = "vigil:owner:type"
	PropOwnerName     = "vigil:owner:name"
	PropFixState      = "vigil:fix_state"
	PropFixedVersions = "vigil:fixed_versions"
	PropSuppression   = "vigil:suppression"
)

const imageBOMRef = "image"

func writeCycloneDX(w io.Writer, r *result.Report, opts Options) error {
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + uuidLike(fingerprint("cyclonedx", r.Artifact.Name, r.Artifact.Digest, r.Artifact.ImageID, r.CreatedAt.UTC().Format(time.RFC3339Nano)))
	bom.Version = 1
	refs := newPackageRefs(r.Packages, r.Vulnerabilities)

	image := cdx.Component{
		BOMRef: imageBOMRef, Type: cdx.ComponentTypeContainer,
		Name: artifactName(r.Artifact), Version: r.Artifact.Digest,
	}
	if image.Version == "" {
		image.Version = r.Artifact.ImageID
	}
	if p := imagePURL(r.Artifact); p != "" {
		image.PackageURL = p
	}
	var imageProps []cdx.Property
	if r.Artifact.ImageID != "" {
		imageProps = append(imageProps, cdx.Property{Name: "vigil:image_id", Value: r.Artifact.ImageID})
	}
	if r.Artifact.Platform != "" {
		imageProps = append(imageProps, cdx.Property{Name: "vigil:platform", Value: r.Artifact.Platform})
	}
	for _, t := range r.Artifact.RepoTags {
		imageProps = append(imageProps, cdx.Property{Name: "vigil:repo_tag", Value: t})
	}
	if len(imageProps) > 0 {
		image.Properties = &imageProps
	}
	version := r.Tool.Version
	if version == "" {
		version = "unknown"
	}
	bom.Metadata = &cdx.Metadata{
		Component: &image,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "vigil", Version: version,
			ExternalReferences: &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: vigilInformationURI}},
		}}},
	}
	if len(r.NotJudged) > 0 {
		props := make([]cdx.Property, 0, len(r.NotJudged))
		for _, n := range r.NotJudged {
			props = append(props, cdx.Property{Name: "vigil:not_judged", Value: oneLine(n.String())})
		}
		bom.Metadata.Properties = &props
	}
	if !r.CreatedAt.IsZero() {
		bom.Metadata.Timestamp = r.CreatedAt.UTC().Format(time.RFC3339)
	}

	components := []cdx.Component{}
	dependsOn := []string{}
	if o := r.Artifact.OS; o.Known() {
		ref := "os:" + o.Family + "@" + o.Version
		components = append(components, cdx.Component{
			BOMRef: ref, Type: cdx.ComponentTypeOS, Name: o.Family, Version: o.Version, Description: o.Name,
		})
		dependsOn = append(dependsOn, ref)
	}
	for i, p := range refs.packages {
		components = append(components, cdxComponent(p, refs.refs[i]))
		dependsOn = append(dependsOn, refs.refs[i])
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{{Ref: imageBOMRef, Dependencies: &dependsOn}}

	if !opts.SBOMOnly {
		vulns := []cdx.Vulnerability{}
		for _, f := range sortedFindings(r.Vulnerabilities) {
			vulns = append(vulns, cdxVulnerability(f, refs.ref(f.Package)))
		}
		bom.Vulnerabilities = &vulns
	}
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	return enc.EncodeVersion(bom, cdx.SpecVersion1_6)
}

func cdxComponent(p inventory.Package, ref string) cdx.Component {
	c := cdx.Component{
		BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: p.PURL,
	}
	if p.Type == inventory.TypeMaven {
		if g, a, ok := strings.Cut(p.Name, ":"); ok {
			c.Group, c.Name = g, a
		}
	}
	if lic := cdxLicenses(p.Licenses); lic != nil {
		c.Licenses = lic
	}
	var props []cdx.Property
	add := func(name, value string) {
		if value != "" {
			props = append(props, cdx.Property{Name: name, Value: value})
		}
	}
	add(PropPath, p.Path)
	add(PropEcosystem, p.Ecosystem)
	if p.Source != nil {
		add(PropSourceName, p.Source.Name)
		add(PropSourceVersion, p.Source.Version)
	}
	if o := p.Owner; o != nil {
		add(PropOwnerType, o.Type)
		add(PropOwnerName, o.Name)
	}
	if l := p.Layer; l != nil {
		add(PropLayerDiffID, l.DiffID)
		add(PropLayerIndex, strconv.Itoa(l.Index))
		add(PropLayerCreatedBy, l.CreatedBy)
		add(PropLayerBase, strconv.FormatBool(l.Base))
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}

// cdxLicenses follows the schema's rule that a component lists either
// license objects or exactly one expression, never both.
func cdxLicenses(ls []string) *cdx.Licenses {
	if len(ls) == 0 {
		return nil
	}
	if len(ls) == 1 {
		if expr, ok := spdxExpression(ls[0]); ok && isCompound(expr) {
			return &cdx.Licenses{{Expression: expr}}
		}
	}
	out := cdx.Licenses{}
	for _, l := range ls {
		if id, ok := canonicalLicenseID(l); ok {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: id}})
		} else if strings.TrimSpace(l) != "" {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

var cdxSeverity = map[string]cdx.Severity{
	vuln.SeverityCritical:   cdx.SeverityCritical,
	vuln.SeverityHigh:       cdx.SeverityHigh,
	vuln.SeverityMedium:     cdx.SeverityMedium,
	vuln.SeverityLow:        cdx.SeverityLow,
	vuln.SeverityNegligible: cdx.SeverityInfo,
	vuln.SeverityUnknown:    cdx.SeverityUnknown,
}

func cvssMethod(version string) cdx.ScoringMethod {
	switch version {
	case "2.0", "2":
		return cdx.ScoringMethodCVSSv2
	case "3.0":
		return cdx.ScoringMethodCVSSv3
	case "3.1":
		return cdx.ScoringMethodCVSSv31
	case "4.0":
		return cdx.ScoringMethodCVSSv4
	}
	return cdx.ScoringMethodOther
}

func cdxVulnerability(f vuln.Finding, ref string) cdx.Vulnerability {
	v := cdx.Vulnerability{
		BOMRef:         "vuln:" + f.ID + ":" + ref,
		ID:             f.ID,
		Source:         &cdx.Source{Name: sourceName(f), URL: advisoryURL(f.ID)},
		Description:    f.Title,
		Detail:         f.Description,
		Recommendation: remediation(f),
		Affects: &[]cdx.Affects{{Ref: ref, Range: &[]cdx.AffectedVersions{{
			Version: f.Package.Version, Status: cdx.VulnerabilityStatusAffected,
		}}}},
	}
	if v.Description == "" {
		v.Description, v.Detail = f.Description, ""
	}
	ratings := []cdx.VulnerabilityRating{}
	for _, c := range f.CVSS {
		score := c.Score
		rt := cdx.VulnerabilityRating{Score: &score, Method: cvssMethod(c.Version), Vector: c.Vector, Severity: cdxSeverity[cvss.SeverityFromScore(c.Version, c.Score)]}
		if c.Source != "" {
			rt.Source = &cdx.Source{Name: c.Source}
		}
		ratings = append(ratings, rt)
	}
	// Vigil's own verdict, which may be a vendor severity rather than CVSS.
	ratings = append(ratings, cdx.VulnerabilityRating{
		Source: &cdx.Source{Name: orDefault(f.SeveritySource, "vigil")}, Severity: cdxSeverity[f.Severity], Method: cdx.ScoringMethodOther,
	})
	v.Ratings = &ratings
	if len(f.References) > 0 {
		adv := make([]cdx.Advisory, 0, len(f.References))
		for _, u := range f.References {
			adv = append(adv, cdx.Advisory{URL: u})
		}
		v.Advisories = &adv
	}
	if len(f.Aliases) > 0 {
		refs := make([]cdx.VulnerabilityReference, 0, len(f.Aliases))
		for _, a := range f.Aliases {
			refs = append(refs, cdx.VulnerabilityReference{ID: a, Source: &cdx.Source{URL: advisoryURL(a)}})
		}
		v.References = &refs
	}
	if !f.Published.IsZero() && f.Published.Year() > 1 {
		v.Published = f.Published.UTC().Format(time.RFC3339)
	}
	if !f.Modified.IsZero() && f.Modified.Year() > 1 {
		v.Updated = f.Modified.UTC().Format(time.RFC3339)
	}
	props := []cdx.Property{{Name: PropFixState, Value: string(f.FixState)}}
	if len(f.FixedVersions) > 0 {
		props = append(props, cdx.Property{Name: PropFixedVersions, Value: strings.Join(f.FixedVersions, ",")})
	}
	if s := f.Suppressed; s != nil {
		v.Analysis = cdxAnalysis(s)
		props = append(props, cdx.Property{Name: PropSuppression, Value: s.Kind + ":" + s.Rule})
	}
	v.Properties = &props
	return v
}

func sourceName(f vuln.Finding) string {
	if len(f.DataSources) > 0 {
		return f.DataSources[0]
	}
	prefix, _, _ := strings.Cut(f.ID, "-")
	return prefix
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// cdxAnalysis turns a suppression into a CycloneDX VEX analysis. OpenVEX
// statuses and justifications map onto CycloneDX's; policy and allow-list
// suppressions (accepted risk) are stated as not_affected with the rule
// and reason in the detail.
func cdxAnalysis(s *vuln.Suppression) *cdx.VulnerabilityAnalysis {
	a := &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected}
	switch strings.ToLower(s.Status) {
	case "fixed", "resolved":
		a.State = cdx.IASResolved
	case "false_positive":
		a.State = cdx.IASFalsePositive
	}
	if a.State == cdx.IASNotAffected {
		switch s.Justification {
		case "component_not_present", "vulnerable_code_not_present", "code_not_present":
			a.Justification = cdx.IAJCodeNotPresent
		case "vulnerable_code_not_in_execute_path", "code_not_reachable":
			a.Justification = cdx.IAJCodeNotReachable
		case "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist", "protected_by_mitigating_control":
			a.Justification = cdx.IAJProtectedByMitigatingControl
		}
	}
	detail := fmt.Sprintf("Suppressed by %s %s", s.Kind, s.Rule)
	if s.Reason != "" {
		detail += ": " + s.Reason
	}
	if !s.Expires.IsZero() {
		detail += " (expires " + s.Expires.UTC().Format("2006-01-02") + ")"
	}
	a.Detail = detail
	if s.Kind == policy.KindOSPackage {
		// Not a statement that the package is unaffected: the owning OS
		// package's own findings say whether it is.
		a.State = ""
	}
	return a
}
