// Package harbor is the data side of Harbor's Pluggable Scanner API v1.2
// (github.com/goharbor/pluggable-scanner-spec): the wire types, the strict
// reading of a ScanRequest, the registry credentials it carries, and the
// conversion of a Vigil result.Report into Harbor's vulnerability and SBOM
// reports. The HTTP routes live in internal/server, the scan job in
// internal/jobs; both share this package so they agree on every field.
package harbor

import (
	"time"
)

// MIME types of the API.
const (
	// Artifacts Vigil scans.
	MimeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MimeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

	// Reports Vigil produces.
	MimeVulnReport       = "application/vnd.security.vulnerability.report; version=1.1"
	MimeVulnReportHarbor = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
	MimeSBOMReport       = "application/vnd.security.sbom.report+json; version=1.0"
	// MimeVulnReportRaw is the spec's "raw" report, the scanner's native
	// format: Vigil's JSON report (`vigil image --format json`).
	MimeVulnReportRaw = "application/vnd.scanner.adapter.vuln.report.raw"

	MimeMetadata10   = "application/vnd.scanner.adapter.metadata+json; version=1.0"
	MimeMetadata11   = "application/vnd.scanner.adapter.metadata+json; version=1.1"
	MimeScanResponse = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
	MimeError        = "application/vnd.scanner.adapter.error+json; version=1.0"

	// SBOM formats of a sbom report (sbom_media_type).
	SBOMCycloneDX = "application/vnd.cyclonedx+json"
	SBOMSPDX      = "application/spdx+json"
)

// Capability types.
const (
	CapVulnerability = "vulnerability"
	CapSBOM          = "sbom"
)

// Scanner names the scanner in metadata and reports.
type Scanner struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
}

// Capability is one kind of report Vigil makes from some artifact types.
type Capability struct {
	Type                 string         `json:"type"`
	ConsumesMimeTypes    []string       `json:"consumes_mime_types"`
	ProducesMimeTypes    []string       `json:"produces_mime_types"`
	AdditionalAttributes map[string]any `json:"additional_attributes,omitempty"`
}

// Metadata is the answer to GET /metadata.
type Metadata struct {
	Scanner      Scanner           `json:"scanner"`
	Capabilities []Capability      `json:"capabilities"`
	Properties   map[string]string `json:"properties,omitempty"`
}

// NewMetadata describes Vigil: its version and when the vulnerability DB
// it matches against was built (zero when none is loaded yet).
func NewMetadata(scanner Scanner, dbBuilt time.Time) Metadata {
	consumes := []string{MimeOCIManifest, MimeDockerManifest}
	props := map[string]string{"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"}
	if !dbBuilt.IsZero() {
		props["harbor.scanner-adapter/vulnerability-database-updated-at"] = dbBuilt.UTC().Format(time.RFC3339)
	}
	return Metadata{
		Scanner: scanner,
		Capabilities: []Capability{
			{Type: CapVulnerability, ConsumesMimeTypes: consumes, ProducesMimeTypes: []string{MimeVulnReportHarbor, MimeVulnReport, MimeVulnReportRaw}},
			{Type: CapSBOM, ConsumesMimeTypes: consumes, ProducesMimeTypes: []string{MimeSBOMReport},
				AdditionalAttributes: map[string]any{"sbom_media_types": []string{SBOMSPDX, SBOMCycloneDX}}},
		},
		Properties: props,
	}
}

// Registry is where Harbor tells the scanner to pull from.
type Registry struct {
	URL string `json:"url"`
	// Authorization is the Authorization header value for the registry:
	// "Basic <base64 robot credentials>" or "Bearer <token>".
	Authorization string `json:"authorization,omitempty"`
}

// Artifact is the image to scan.
type Artifact struct {
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest,omitempty"`
	Tag        string `json:"tag,omitempty"`
	MimeType   string `json:"mime_type,omitempty"`
}

// SbomParameters are the sbom capability's parameters.
type SbomParameters struct {
	SbomMediaTypes []string `json:"sbom_media_types,omitempty"`
}

// EnabledCapability is one capability Harbor asks for.
type EnabledCapability struct {
	Type              string          `json:"type"`
	ProducesMimeTypes []string        `json:"produces_mime_types,omitempty"`
	Parameters        *SbomParameters `json:"parameters,omitempty"`
}

// ScanRequest is the body of POST /scan.
type ScanRequest struct {
	Registry            Registry            `json:"registry"`
	Artifact            Artifact            `json:"artifact"`
	EnabledCapabilities []EnabledCapability `json:"enabled_capabilities,omitempty"`
}

// ScanResponse is the answer to POST /scan.
type ScanResponse struct {
	ID string `json:"id"`
}

// ErrorResponse is every error body of the API.
type ErrorResponse struct {
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

// NewError builds an ErrorResponse.
func NewError(msg string) ErrorResponse {
	var e ErrorResponse
	e.Error.Message = msg
	return e
}
