package web

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is what a Backend returns for an object that does not exist
// or belongs to another tenant; the UI answers 404 for both, as the API does.
var ErrNotFound = errors.New("not found")

// ErrUnauthorized is what Authenticate returns for an unknown token.
var ErrUnauthorized = errors.New("unknown or revoked token")

// Principal is who a session acts as: the tenant and scope of the API token
// that was exchanged for it.
type Principal struct {
	TenantID   int64
	TenantName string
	Scope      string // admin, ingest or read
	TokenID    string // audit trail: which token signed in
}

// Admin reports whether the principal may change policy (create exceptions).
func (p Principal) Admin() bool { return p.Scope == "admin" }

// Backend is every piece of data the pages read or write. It is narrow on
// purpose: the service's store implements it (store.go). Every method is
// tenant-scoped.
type Backend interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
	// CreateSession stores a session under the hash of its cookie value;
	// Session returns a live one's principal and CSRF token (ErrNotFound
	// when missing, expired, or its token is gone); DeleteSession ends one.
	CreateSession(ctx context.Context, idHash string, p Principal, csrf string, expires time.Time) error
	Session(ctx context.Context, idHash string) (Principal, string, error)
	DeleteSession(ctx context.Context, idHash string) error

	Overview(ctx context.Context, tenant int64) (Overview, error)
	Registries(ctx context.Context, tenant int64) ([]Registry, error)
	Registry(ctx context.Context, tenant int64, id string) (Registry, error)
	Repositories(ctx context.Context, tenant int64, registryID string, after string) (Page[Repository], error)
	// Images lists images matching q; q.Registry/q.Repository narrow it,
	// q.Text searches references, tags and digests.
	Images(ctx context.Context, tenant int64, q ImageQuery) (Page[Image], error)
	Image(ctx context.Context, tenant int64, digest string) (Image, error)
	// Findings lists the findings of one image (q.Digest) or, with an
	// empty digest, of the whole tenant (search by CVE id or package).
	Findings(ctx context.Context, tenant int64, q FindingQuery) (Page[Finding], error)
	Finding(ctx context.Context, tenant int64, digest, key string) (FindingDetail, error)
	Remediation(ctx context.Context, tenant int64, q RemediationQuery) (Page[RemediationEvent], error)
	Exceptions(ctx context.Context, tenant int64) ([]Exception, error)
	CreateException(ctx context.Context, who Principal, e Exception) (Exception, error)
}

// Severities in display order.
var Severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}

// Counts are findings per severity.
type Counts struct {
	Critical, High, Medium, Low, Unknown int
}

// Total is the sum over severities.
func (c Counts) Total() int { return c.Critical + c.High + c.Medium + c.Low + c.Unknown }

// Of returns the count of one severity (as in Severities).
func (c Counts) Of(sev string) int {
	switch sev {
	case "CRITICAL":
		return c.Critical
	case "HIGH":
		return c.High
	case "MEDIUM":
		return c.Medium
	case "LOW":
		return c.Low
	}
	return c.Unknown
}

// Overview is the dashboard's data.
type Overview struct {
	Open, Fixable, Running, KEV Counts
	Images                      int
	Registries                  int // registries, with CI/CD only when it has images
	// UnhealthyRegistries have at least one image with an open finding: the
	// recommendation "Container registry images should have vulnerability
	// findings resolved".
	UnhealthyRegistries []Registry
	Trend               []TrendPoint // oldest first, one per day
	MostVulnerable      []Image
	TopVulnerabilities  []VulnerabilityImpact
	DB                  DBStatus
}

// TrendPoint is the number of open findings at the end of one day.
type TrendPoint struct {
	Day  time.Time
	Open int
}

// VulnerabilityImpact is one vulnerability and how many images have it.
type VulnerabilityImpact struct {
	ID       string
	Severity string
	Images   int
	Title    string
}

// DBStatus is the vulnerability DB the evaluations use.
type DBStatus struct {
	Built   time.Time
	Sources []FeedStatus
}

// FeedStatus is one feed of the DB.
type FeedStatus struct {
	Name    string
	Updated time.Time
	Records int
	Error   string
}

// Registry is a registered registry with its open-finding counts.
type Registry struct {
	ID           string
	Name, URL    string
	Host         string // host[:port] of URL, as image references name it
	Repositories int
	Images       int
	Unhealthy    int // images with open findings
	Counts       Counts
}

// Repository is one repository of a registry.
type Repository struct {
	RegistryID string
	Name       string
	Images     int
	Counts     Counts
	LastPushed time.Time
}

// Image is one image (manifest digest) of a repository.
type Image struct {
	Digest         string
	RegistryID     string
	RegistryName   string
	RegistryHost   string // host[:port] image references name; set on the image page
	Repository     string
	Tags           []string
	Status         string // pending, scanned, failed
	Error          string
	PushedAt       time.Time
	PulledAt       time.Time
	EvaluatedAt    time.Time
	DBBuiltAt      time.Time
	Running        bool
	Deleted        bool
	Counts         Counts
	CI             []CIRun
	OS, Platform   string
	BaseImage      string
	ReplacedBy     string // digest of the image its tag moved to
	FindingsOpen   int
	FindingsFixed  int
	FindingsSuppr  int
	LayerCount     int
	ScannedPackage int
}

// Reference is the image's repository with its first tag, or its digest.
func (i Image) Reference() string {
	if len(i.Tags) > 0 {
		return i.Repository + ":" + i.Tags[0]
	}
	return i.Repository + "@" + i.Digest
}

// PullReference is Reference with the registry host, as `vigil image`
// needs it (without it "shop/api:1.0" would mean Docker Hub).
func (i Image) PullReference() string {
	if i.RegistryHost == "" {
		return i.Reference()
	}
	return i.RegistryHost + "/" + i.Reference()
}

// CIRun is the CI/CD run that built or scanned an image.
type CIRun struct {
	Provider, Workflow, RunURL, Repository, RepositoryURL, Commit, Ref string
	At                                                                 time.Time
}

// ImageQuery selects images. Zero values mean "any".
type ImageQuery struct {
	RegistryID string
	Repository string
	Text       string // reference, tag or digest substring
	VulnID     string // an open finding of this vulnerability id
	Severity   string // at least one open finding of this severity
	Running    bool
	After      string // page token from the previous page's Next
	Limit      int
}

// Finding is one open (or suppressed, fixed, resolved) finding of one image.
type Finding struct {
	Key            string // opaque, unique within the image; used in URLs
	Digest         string // the image
	ImageRef       string
	ID             string
	Aliases        []string
	Title          string
	Package        string
	PackageType    string
	Installed      string
	Fixed          []string
	FixState       string
	Severity       string
	CVSS           float64
	EPSS           float64 // probability 0..1; negative when unknown
	KEV            bool
	LayerIndex     int // -1 when unknown
	LayerDigest    string
	LayerStep      string // Dockerfile instruction
	BaseLayer      bool
	FirstSeen      time.Time
	ResolvedAt     time.Time
	State          string // open, fixed, replaced, suppressed
	SuppressReason string
}

// FindingQuery selects findings; zero values mean "any".
type FindingQuery struct {
	Digest    string
	Severity  string
	Fixable   bool
	KEV       bool
	State     string // "" = open; "all"; "suppressed"; "resolved"
	VulnID    string // exact id or alias (case-insensitive)
	Package   string // package name (exact)
	Text      string // id, package or title substring
	Sort      string // severity (default), cvss, epss, package, id, first_seen
	Desc      bool
	After     string
	Limit     int
	BaseLayer string // "" any, "base", "own"
}

// CVSSVector is one CVSS vector with its score and source.
type CVSSVector struct {
	Version, Vector, Source string
	Score                   float64
}

// FindingDetail is everything the finding page shows.
type FindingDetail struct {
	Finding
	Description   string
	CVSSVectors   []CVSSVector
	Remediation   string
	Advisories    []string
	References    []string
	Published     time.Time
	EPSSDate      string
	EPSSPct       float64
	KEVDue        string
	KEVAction     string
	DataSources   []string
	SeverityFrom  string
	PackagePath   string
	PackagePURL   string
	Image         Image
	OtherImages   []Image // others in the tenant with the same vulnerability
	Exceptions    []Exception
	SuppressedBy  string
	Vulnerability string
}

// RemediationQuery selects remediation events.
type RemediationQuery struct {
	Kind  string // "" any, fixed, replaced, deleted
	After string
	Limit int
}

// RemediationEvent is one finding that stopped being open.
type RemediationEvent struct {
	At          time.Time
	Kind        string // fixed, replaced, deleted
	Digest      string
	ImageRef    string
	ReplacedBy  string
	VulnID      string
	Package     string
	Severity    string
	FirstSeenAt time.Time
}

// Exception is a tenant policy entry, with the rules of a .vigil.yaml
// ignore entry: an id, a package glob or both; optional image and path
// globs; a required reason; an optional expiry.
type Exception struct {
	ID        int64
	VulnID    string
	Package   string
	Image     string
	Path      string
	Reason    string
	Expires   time.Time
	CreatedBy string
	CreatedAt time.Time
	// Applied is set once an evaluation has used the exception.
	AppliedAt time.Time
}

// Page is one page of a list. Lists are paginated with opaque tokens
// (keyset pagination stays fast at any depth on a million rows).
type Page[T any] struct {
	Items []T
	Next  string // token of the next page; "" on the last
	Total int    // -1 when unknown
}
