package harbor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/report"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Severities of Harbor's scale, lowest first.
var severityScale = []string{"Unknown", "Negligible", "Low", "Medium", "High", "Critical"}

// Severity maps a Vigil severity onto Harbor's scale.
func Severity(s string) string {
	switch s {
	case vuln.SeverityCritical:
		return "Critical"
	case vuln.SeverityHigh:
		return "High"
	case vuln.SeverityMedium:
		return "Medium"
	case vuln.SeverityLow:
		return "Low"
	case vuln.SeverityNegligible:
		return "Negligible"
	}
	return "Unknown"
}

func severityRank(s string) int {
	for i, v := range severityScale {
		if v == s {
			return i
		}
	}
	return 0
}

// CVSSDetails are a finding's preferred CVSS v3 and v2 scores.
type CVSSDetails struct {
	ScoreV3  *float64 `json:"score_v3,omitempty"`
	ScoreV2  *float64 `json:"score_v2,omitempty"`
	VectorV3 string   `json:"vector_v3,omitempty"`
	VectorV2 string   `json:"vector_v2,omitempty"`
}

// VulnerabilityItem is one finding in Harbor's form.
type VulnerabilityItem struct {
	ID               string         `json:"id"`
	Package          string         `json:"package"`
	Version          string         `json:"version"`
	FixVersion       string         `json:"fix_version"`
	Severity         string         `json:"severity"`
	Description      string         `json:"description"`
	Links            []string       `json:"links"`
	PreferredCVSS    *CVSSDetails   `json:"preferred_cvss,omitempty"`
	CWEIDs           []string       `json:"cwe_ids,omitempty"`
	VendorAttributes map[string]any `json:"vendor_attributes,omitempty"`
}

// VulnerabilityReport is the report of both vulnerability MIME types.
type VulnerabilityReport struct {
	GeneratedAt     time.Time           `json:"generated_at"`
	Artifact        Artifact            `json:"artifact"`
	Scanner         Scanner             `json:"scanner"`
	Severity        string              `json:"severity"`
	Vulnerabilities []VulnerabilityItem `json:"vulnerabilities"`
}

// NewVulnerabilityReport converts a Vigil report. Findings the tenant's
// policy suppressed are left out, as everywhere else in the service; the
// overall severity is the highest one ("Unknown" when there is none).
func NewVulnerabilityReport(rep *result.Report, art Artifact, sc Scanner) VulnerabilityReport {
	out := VulnerabilityReport{GeneratedAt: rep.CreatedAt.UTC(), Artifact: art, Scanner: sc, Severity: "Unknown",
		Vulnerabilities: []VulnerabilityItem{}}
	for _, f := range rep.Vulnerabilities {
		if f.Suppressed != nil {
			continue
		}
		it := item(f)
		if severityRank(it.Severity) > severityRank(out.Severity) {
			out.Severity = it.Severity
		}
		out.Vulnerabilities = append(out.Vulnerabilities, it)
	}
	return out
}

func item(f vuln.Finding) VulnerabilityItem {
	it := VulnerabilityItem{ID: f.ID, Package: f.Package.Name, Version: f.Package.Version, Severity: Severity(f.Severity),
		Description: f.Description, Links: links(f)}
	if it.Description == "" {
		it.Description = f.Title
	}
	if len(f.FixedVersions) > 0 {
		it.FixVersion = f.FixedVersions[0] // lowest first: the upgrade to make
	}
	var c CVSSDetails
	vendor := map[string]map[string]any{}
	for _, v := range f.CVSS {
		src := v.Source
		if src == "" {
			src = "vigil"
		}
		if vendor[src] == nil {
			vendor[src] = map[string]any{}
		}
		score := v.Score
		switch {
		case strings.HasPrefix(v.Version, "3"):
			// The first vector of a version is the matcher's preferred one.
			if c.ScoreV3 == nil {
				c.ScoreV3, c.VectorV3 = &score, v.Vector
			}
			vendor[src]["V3Score"], vendor[src]["V3Vector"] = v.Score, v.Vector
		case v.Version == "2.0":
			if c.ScoreV2 == nil {
				c.ScoreV2, c.VectorV2 = &score, v.Vector
			}
			vendor[src]["V2Score"], vendor[src]["V2Vector"] = v.Score, v.Vector
		case strings.HasPrefix(v.Version, "4"):
			vendor[src]["V40Score"], vendor[src]["V40Vector"] = v.Score, v.Vector
		}
	}
	if c.ScoreV3 != nil || c.ScoreV2 != nil {
		it.PreferredCVSS = &c
	}
	attrs := map[string]any{"fix_state": string(f.FixState), "package_type": f.Package.Type}
	if len(vendor) > 0 {
		attrs["CVSS"] = vendor
	}
	if f.SeveritySource != "" {
		attrs["severity_source"] = f.SeveritySource
	}
	if f.Package.PURL != "" {
		attrs["purl"] = f.Package.PURL
	}
	if f.Package.Path != "" {
		attrs["path"] = f.Package.Path
	}
	if len(f.Aliases) > 0 {
		attrs["aliases"] = f.Aliases
	}
	if f.Layer != nil {
		// The spec has no layer field; Harbor keeps vendor attributes.
		l := map[string]any{"index": f.Layer.Index, "diff_id": f.Layer.DiffID, "base": f.Layer.Base}
		if f.Layer.Digest != "" {
			l["digest"] = f.Layer.Digest
		}
		if f.Layer.CreatedBy != "" {
			l["created_by"] = f.Layer.CreatedBy
		}
		attrs["layer"] = l
	}
	if f.KEV != nil {
		attrs["kev"] = true
	}
	if f.EPSS != nil {
		attrs["epss"] = f.EPSS
	}
	it.VendorAttributes = attrs
	return it
}

// links are the advisory's page first, then the finding's references that
// are absolute http(s) URLs (the spec types them as URIs).
func links(f vuln.Finding) []string {
	out := []string{report.AdvisoryURL(f.ID)}
	seen := map[string]bool{out[0]: true}
	for _, r := range f.References {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	return out
}

// SbomReport is the sbom report: the SBOM document in an envelope.
type SbomReport struct {
	GeneratedAt      time.Time       `json:"generated_at"`
	Artifact         Artifact        `json:"artifact"`
	Scanner          Scanner         `json:"scanner"`
	VendorAttributes map[string]any  `json:"vendor_attributes,omitempty"`
	MediaType        string          `json:"media_type"`
	SBOM             json.RawMessage `json:"sbom"`
}

// NewSbomReport renders the report's inventory as CycloneDX or SPDX JSON
// (mediaType SBOMCycloneDX or SBOMSPDX) with the reports the CLI writes.
func NewSbomReport(rep *result.Report, art Artifact, sc Scanner, mediaType string) (SbomReport, error) {
	format := map[string]string{SBOMCycloneDX: "cyclonedx-json", SBOMSPDX: "spdx-json"}[mediaType]
	if format == "" {
		return SbomReport{}, fmt.Errorf("sbom_media_type %q: want %s or %s", mediaType, SBOMCycloneDX, SBOMSPDX)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, format, rep, report.Options{SBOMOnly: true}); err != nil {
		return SbomReport{}, err
	}
	return SbomReport{GeneratedAt: rep.CreatedAt.UTC(), Artifact: art, Scanner: sc, MediaType: mediaType,
		SBOM: json.RawMessage(bytes.TrimSpace(buf.Bytes())), VendorAttributes: map[string]any{"packages": len(rep.Packages)}}, nil
}
