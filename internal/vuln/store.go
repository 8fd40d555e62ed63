package vuln

import "context"

// Store is read access to vulnerability knowledge. The vulnerability DB
// implements it; the matcher and the server depend only on this interface.
// Implementations must be safe for concurrent use.
type Store interface {
	// Affected returns every record for the package name (already
	// normalised for the ecosystem) in the ecosystem, e.g. ("Go",
	// "golang.org/x/net") or ("Alpine:v3.10", "openssl").
	Affected(ctx context.Context, ecosystem, pkg string) ([]Affected, error)
	// Vulnerability returns the advisory with that id, or nil if unknown.
	Vulnerability(ctx context.Context, id string) (*Vulnerability, error)
	// Enrichment returns CVSS vectors from NVD, EPSS and KEV data for a CVE
	// id; zero values when the DB has none.
	Enrichment(ctx context.Context, cve string) (Enrichment, error)
}

// Enrichment is what secondary feeds add to a CVE.
type Enrichment struct {
	// NVD CVSS vectors, used when the advisory carries none.
	CVSS []CVSS
	// NVDSeverity is NVD's severity for the CVE when it has one.
	NVDSeverity string
	EPSS        *EPSS
	KEV         *KEV
}

// Sink receives the records a feed parser produces, one at a time, so
// imports stream instead of holding a whole feed in memory. The vulnerability
// DB builder implements it.
type Sink interface {
	// Vulnerability adds or merges an advisory's descriptive record.
	Vulnerability(v Vulnerability) error
	// Affected adds one affected-package record.
	Affected(a Affected) error
	// Enrich adds secondary data (NVD CVSS, EPSS, KEV) for a CVE; fields
	// left zero do not overwrite earlier ones.
	Enrich(cve string, e Enrichment) error
}

// Coverage is implemented by stores that know which ecosystems they hold
// advisories for, so a scan can say which packages it could not judge
// instead of reporting them clean. The vulnerability DB implements it.
type Coverage interface {
	// Ecosystems returns every ecosystem with at least one affected
	// record ("Go", "Alpine:v3.10", "Debian:11", ...).
	Ecosystems(ctx context.Context) (map[string]bool, error)
}
