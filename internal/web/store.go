package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// StoreBackend is the Backend of `vigil serve`: the service's store, its
// job queue (an exception re-evaluates the images it concerns) and the
// vulnerability DB it serves.
type StoreBackend struct {
	st  *store.Store
	q   *jobs.Queue
	db  *jobs.CurrentDB
	log *slog.Logger
}

// NewStoreBackend builds the backend; q and db may be nil (no
// re-evaluation is queued, no DB status is shown).
func NewStoreBackend(st *store.Store, q *jobs.Queue, db *jobs.CurrentDB, log *slog.Logger) *StoreBackend {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StoreBackend{st: st, q: q, db: db, log: log}
}

func mapErr(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBadPageToken) {
		return ErrNotFound
	}
	return err
}

// Authenticate resolves an API token.
func (b *StoreBackend) Authenticate(ctx context.Context, token string) (Principal, error) {
	p, err := b.st.Authenticate(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, err
	}
	return principal(p), nil
}

func principal(p store.Principal) Principal {
	return Principal{TenantID: p.TenantID, TenantName: p.Tenant, Scope: string(p.Scope), TokenID: p.TokenID}
}

// CreateSession stores a UI session in the database.
func (b *StoreBackend) CreateSession(ctx context.Context, idHash string, p Principal, csrf string, expires time.Time) error {
	return b.st.CreateUISession(ctx, idHash, p.TokenID, csrf, expires)
}

// Session returns a live UI session.
func (b *StoreBackend) Session(ctx context.Context, idHash string) (Principal, string, error) {
	u, err := b.st.UISession(ctx, idHash)
	if err != nil {
		return Principal{}, "", mapErr(err)
	}
	return principal(u.Principal), u.CSRF, nil
}

// DeleteSession ends a UI session.
func (b *StoreBackend) DeleteSession(ctx context.Context, idHash string) error {
	return b.st.DeleteUISession(ctx, idHash)
}

func counts(c store.Counts) Counts {
	return Counts{Critical: c.Critical, High: c.High, Medium: c.Medium, Low: c.Low, Unknown: c.Unknown}
}

func tm(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (b *StoreBackend) image(im store.Image, regs map[string]string) Image {
	out := Image{
		Digest: im.Digest, RegistryID: im.RegistryID, RegistryName: regs[im.RegistryID], Repository: im.Repository, Tags: im.Tags,
		Status: im.Status, Error: im.Error, PushedAt: tm(im.PushedAt), PulledAt: tm(im.PulledAt), EvaluatedAt: tm(im.LastEvaluatedAt),
		DBBuiltAt: tm(im.DBBuiltAt), Running: im.Running, Counts: counts(im.Counts), ReplacedBy: im.ReplacedBy,
	}
	if im.RegistryID == "" {
		// Known only from `vigil publish`: listed under the CI/CD only
		// pseudo-registry.
		out.RegistryID, out.RegistryName = store.CIOnlyRegistryID, "CI/CD only"
	}
	for _, c := range im.CI {
		out.CI = append(out.CI, CIRun{Provider: c.Provider, Workflow: c.Workflow, RunURL: c.RunURL, Repository: c.Repository,
			RepositoryURL: repositoryURL(c.RunURL, c.Repository), Commit: c.Commit, Ref: c.Ref, At: c.CreatedAt})
	}
	return out
}

// repositoryURL derives the repository's web address from a GitHub or
// GitLab run URL ("https://github.com/acme/shop/actions/runs/42").
func repositoryURL(runURL, repo string) string {
	if repo == "" {
		return ""
	}
	if i := strings.Index(runURL, "/"+repo+"/"); i > 0 {
		return runURL[:i+1+len(repo)]
	}
	return ""
}

func (b *StoreBackend) registryNames(ctx context.Context, tenant int64) (map[string]string, error) {
	return b.st.RegistryNames(ctx, tenant)
}

// Overview assembles the dashboard from one pass over the tenant's images
// and the store's findings-wide rollups.
func (b *StoreBackend) Overview(ctx context.Context, tenant int64) (Overview, error) {
	var ov Overview
	agg, err := b.st.OpenAggregates(ctx, tenant, 10, 30)
	if err != nil {
		return ov, err
	}
	ov.Open, ov.Images = counts(agg.Open), agg.Images
	run, err := b.st.RunningCounts(ctx, tenant)
	if err != nil {
		return ov, err
	}
	ov.Running = counts(run)
	regs, err := b.registries(ctx, tenant, agg.ByRegistry)
	if err != nil {
		return ov, err
	}
	ov.Registries = len(regs)
	names := map[string]string{}
	for _, r := range regs {
		names[r.ID] = r.Name
		if r.Unhealthy > 0 {
			ov.UnhealthyRegistries = append(ov.UnhealthyRegistries, r)
		}
	}
	mv, err := b.st.MostVulnerable(ctx, tenant, 10)
	if err != nil {
		return ov, err
	}
	for _, im := range mv {
		ov.MostVulnerable = append(ov.MostVulnerable, b.image(im, names))
	}
	ov.Fixable, ov.KEV = counts(agg.Fixable), counts(agg.KEV)
	for _, v := range agg.Top {
		ov.TopVulnerabilities = append(ov.TopVulnerabilities, VulnerabilityImpact{ID: v.ID, Severity: strings.ToUpper(v.Severity), Images: v.Images})
	}
	for _, d := range agg.Trend {
		ov.Trend = append(ov.Trend, TrendPoint{Day: d.Day, Open: d.Open})
	}
	if b.db != nil {
		info := b.db.Info()
		ov.DB.Built = info.Built
		for _, s := range info.Sources {
			ov.DB.Sources = append(ov.DB.Sources, FeedStatus{Name: s.Name, Updated: s.Fetched, Records: s.Records})
		}
		if info.LastRefreshError != "" {
			ov.DB.Sources = append(ov.DB.Sources, FeedStatus{Name: "last refresh", Updated: tm(info.LastRefreshAt), Error: info.LastRefreshError})
		}
	}
	return ov, nil
}

func registry(r store.Registry) Registry {
	return Registry{ID: r.ID, Name: r.Name, URL: r.URL, Host: cmp.Or(r.Host, urlHost(r.URL)), Images: r.Images, Unhealthy: r.Unhealthy, Counts: counts(r.Counts)}
}

// urlHost is the host[:port] of a registry URL ("" when it has none).
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// Registries lists the tenant's registries with counts, then the CI/CD
// only pseudo-registry when images were published from CI without being
// pushed to a registered registry.
func (b *StoreBackend) Registries(ctx context.Context, tenant int64) ([]Registry, error) {
	byReg, err := b.st.RegistryCounts(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return b.registries(ctx, tenant, byReg)
}

func (b *StoreBackend) registries(ctx context.Context, tenant int64, byReg map[string]store.RegistryCount) ([]Registry, error) {
	regs, err := b.st.RegistryHeads(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if ci, ok := byReg[""]; ok && ci.Images > 0 {
		regs = append(regs, store.Registry{ID: store.CIOnlyRegistryID, Name: "CI/CD only"})
	}
	out := make([]Registry, 0, len(regs))
	for _, r := range regs {
		c := byReg[registryKey(r.ID)]
		r.Images, r.Unhealthy, r.Counts = c.Images, c.Unhealthy, c.Counts
		out = append(out, registry(r))
	}
	return out, nil
}

func registryKey(id string) string {
	if id == store.CIOnlyRegistryID {
		return ""
	}
	return id
}

// Registry returns one registry of the tenant, or the CI/CD only one.
func (b *StoreBackend) Registry(ctx context.Context, tenant int64, id string) (Registry, error) {
	r, err := b.st.RegistryWithCounts(ctx, tenant, id)
	if err != nil {
		return Registry{}, mapErr(err)
	}
	return registry(r), nil
}

// Repositories lists a registry's repositories.
func (b *StoreBackend) Repositories(ctx context.Context, tenant int64, registryID, after string) (Page[Repository], error) {
	p, err := b.st.Repositories(ctx, tenant, store.RepositoryFilter{RegistryID: registryID, PageToken: after, Limit: pageSize})
	if err != nil {
		return Page[Repository]{}, mapErr(err)
	}
	out := Page[Repository]{Next: p.NextPageToken, Total: -1}
	for _, r := range p.Items {
		out.Items = append(out.Items, Repository{RegistryID: cmp.Or(r.RegistryID, store.CIOnlyRegistryID), Name: r.Name, Images: r.Images, Counts: counts(r.Counts)})
	}
	return out, nil
}

// Images searches the tenant's images.
func (b *StoreBackend) Images(ctx context.Context, tenant int64, q ImageQuery) (Page[Image], error) {
	p, err := b.st.SearchImages(ctx, tenant, store.ImageSearch{Text: q.Text, RegistryID: q.RegistryID, Repository: q.Repository,
		Severity: strings.ToLower(q.Severity), Running: q.Running, VulnID: normalizeVulnID(q.VulnID), Limit: q.Limit, PageToken: q.After})
	if err != nil {
		return Page[Image]{}, mapErr(err)
	}
	names, err := b.registryNames(ctx, tenant)
	if err != nil {
		return Page[Image]{}, err
	}
	out := Page[Image]{Next: p.NextPageToken, Total: -1}
	for _, im := range p.Items {
		out.Items = append(out.Items, b.image(im, names))
	}
	return out, nil
}

// Image returns one image of the tenant.
func (b *StoreBackend) Image(ctx context.Context, tenant int64, digest string) (Image, error) {
	im, err := b.st.Image(ctx, tenant, digest)
	if err != nil {
		return Image{}, mapErr(err)
	}
	regs, err := b.st.RegistryHeads(ctx, tenant)
	if err != nil {
		return Image{}, err
	}
	names := map[string]string{}
	for _, r := range regs {
		names[r.ID] = r.Name
	}
	out := b.image(im, names)
	for _, r := range regs {
		if r.ID == im.RegistryID {
			out.RegistryHost = urlHost(r.URL)
		}
	}
	return out, nil
}

func severityOf(f *vuln.Finding) string {
	switch s := strings.ToUpper(f.Severity); s {
	case "CRITICAL", "HIGH", "MEDIUM", "LOW":
		return s
	case "NEGLIGIBLE":
		return "LOW"
	}
	return "UNKNOWN"
}

func finding(r store.FindingRow) Finding {
	f := &r.Finding
	out := Finding{
		Key: strconv.FormatInt(r.ID, 10), Digest: r.Digest, ImageRef: r.Repository, ID: f.ID, Aliases: f.Aliases, Title: f.Title,
		Package: f.Package.Name, PackageType: f.Package.Type, Installed: f.Package.Version, Fixed: f.FixedVersions, FixState: string(f.FixState),
		Severity: severityOf(f), EPSS: -1, KEV: f.KEV != nil, LayerIndex: -1, FirstSeen: r.FirstSeenAt, ResolvedAt: tm(r.ResolvedAt), State: r.State,
	}
	for _, c := range f.CVSS {
		out.CVSS = max(out.CVSS, c.Score)
	}
	if f.EPSS != nil {
		out.EPSS = f.EPSS.Score
	}
	if l := f.Layer; l != nil {
		out.LayerIndex, out.LayerDigest, out.LayerStep, out.BaseLayer = l.Index, l.DiffID, l.CreatedBy, l.Base
	}
	if f.Suppressed != nil {
		out.SuppressReason = f.Suppressed.Reason
	}
	return out
}

var sevRank = map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "UNKNOWN": 4}

// Findings lists one image's findings (filtered and sorted in memory: an
// image has hundreds, not millions) or, without a digest, the tenant's
// open findings of one vulnerability or package.
func (b *StoreBackend) Findings(ctx context.Context, tenant int64, q FindingQuery) (Page[Finding], error) {
	if q.Digest == "" {
		if q.VulnID == "" && q.Package == "" {
			return Page[Finding]{Total: 0}, nil
		}
		p, err := b.st.OpenFindingsOf(ctx, tenant, normalizeVulnID(q.VulnID), q.Package, q.After, q.Limit)
		if err != nil {
			return Page[Finding]{}, mapErr(err)
		}
		out := Page[Finding]{Next: p.NextPageToken, Total: -1}
		for _, r := range p.Items {
			out.Items = append(out.Items, finding(r))
		}
		return out, nil
	}
	rows, err := b.st.ImageFindingRows(ctx, tenant, q.Digest)
	if err != nil {
		return Page[Finding]{}, mapErr(err)
	}
	all := make([]Finding, 0, len(rows))
	text := strings.ToLower(q.Text)
	for _, r := range rows {
		f := finding(r)
		switch q.State {
		case "":
			if f.State != store.StateOpen {
				continue
			}
		case "suppressed":
			if f.State != store.StateSuppressed {
				continue
			}
		case "resolved":
			if f.State != store.StateFixed && f.State != store.StateReplaced {
				continue
			}
		}
		if (q.Severity != "" && f.Severity != q.Severity) || (q.Fixable && len(f.Fixed) == 0) || (q.KEV && !f.KEV) ||
			(q.BaseLayer == "base" && !f.BaseLayer) || (q.BaseLayer == "own" && (f.BaseLayer || f.LayerIndex < 0)) {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(f.ID+" "+f.Package+" "+f.Title+" "+strings.Join(f.Aliases, " ")), text) {
			continue
		}
		all = append(all, f)
	}
	sortFindings(all, q.Sort, q.Desc)
	off := 0
	if q.After != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(q.After, "o"))
		if err != nil || n < 0 || !strings.HasPrefix(q.After, "o") {
			return Page[Finding]{}, ErrNotFound
		}
		off = min(n, len(all))
	}
	limit := cmp.Or(q.Limit, pageSize)
	end := min(off+limit, len(all))
	out := Page[Finding]{Items: all[off:end], Total: len(all)}
	if end < len(all) {
		out.Next = "o" + strconv.Itoa(end)
	}
	return out, nil
}

func sortFindings(fs []Finding, by string, desc bool) {
	key := func(a, b Finding) int {
		switch by {
		case "cvss":
			return cmp.Compare(a.CVSS, b.CVSS)
		case "epss":
			return cmp.Compare(a.EPSS, b.EPSS)
		case "package":
			return cmp.Compare(a.Package, b.Package)
		case "id":
			return cmp.Compare(a.ID, b.ID)
		case "first_seen":
			return a.FirstSeen.Compare(b.FirstSeen)
		}
		// Severity: most severe first when ascending, the natural reading.
		return cmp.Compare(sevRank[a.Severity], sevRank[b.Severity])
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		c := key(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Or(cmp.Compare(sevRank[a.Severity], sevRank[b.Severity]), -cmp.Compare(a.CVSS, b.CVSS), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Package, b.Package))
		}
		return c
	})
}

// Finding returns one finding with its details and the other images of
// the tenant that have the same vulnerability.
func (b *StoreBackend) Finding(ctx context.Context, tenant int64, digest, key string) (FindingDetail, error) {
	id, err := strconv.ParseInt(key, 10, 64)
	if err != nil || id <= 0 {
		return FindingDetail{}, ErrNotFound
	}
	r, err := b.st.FindingByID(ctx, tenant, digest, id)
	if err != nil {
		return FindingDetail{}, mapErr(err)
	}
	img, err := b.Image(ctx, tenant, digest)
	if err != nil {
		return FindingDetail{}, err
	}
	f := &r.Finding
	d := FindingDetail{Finding: finding(r), Image: img, Description: f.Description, Remediation: f.Remediation, Advisories: f.Advisories,
		References: f.References, Published: f.Published, DataSources: f.DataSources, SeverityFrom: f.SeveritySource,
		PackagePath: f.Package.Path, PackagePURL: f.Package.PURL}
	for _, c := range f.CVSS {
		d.CVSSVectors = append(d.CVSSVectors, CVSSVector{Version: c.Version, Vector: c.Vector, Score: c.Score, Source: c.Source})
	}
	if f.EPSS != nil {
		d.EPSSPct, d.EPSSDate = f.EPSS.Percentile, f.EPSS.Date
	}
	if f.KEV != nil {
		d.KEVDue, d.KEVAction = f.KEV.DueDate, f.KEV.RequiredAction
	}
	if s := f.Suppressed; s != nil {
		d.SuppressedBy = fmt.Sprintf("%s %s: %s", s.Kind, s.Rule, s.Reason)
	}
	others, err := b.st.ImagesWithVuln(ctx, tenant, f.ID, 21)
	if err != nil {
		return d, err
	}
	names, err := b.registryNames(ctx, tenant)
	if err != nil {
		return d, err
	}
	for _, im := range others {
		if im.Digest != digest && len(d.OtherImages) < 20 {
			d.OtherImages = append(d.OtherImages, b.image(im, names))
		}
	}
	exc, err := b.Exceptions(ctx, tenant)
	if err != nil {
		return d, err
	}
	for _, e := range exc {
		if (e.VulnID == "" || strings.EqualFold(e.VulnID, f.ID) || slices.ContainsFunc(f.Aliases, func(a string) bool { return strings.EqualFold(a, e.VulnID) })) &&
			(e.Package == "" || e.Package == f.Package.Name || strings.ContainsAny(e.Package, "*?[")) {
			d.Exceptions = append(d.Exceptions, e)
		}
	}
	return d, nil
}

// Remediation lists resolved findings or deleted images.
func (b *StoreBackend) Remediation(ctx context.Context, tenant int64, q RemediationQuery) (Page[RemediationEvent], error) {
	p, err := b.st.Resolutions(ctx, tenant, q.Kind, q.After, q.Limit)
	if err != nil {
		return Page[RemediationEvent]{}, mapErr(err)
	}
	out := Page[RemediationEvent]{Next: p.NextPageToken, Total: -1}
	for _, r := range p.Items {
		out.Items = append(out.Items, RemediationEvent{At: r.At, Kind: r.Kind, Digest: r.Digest, ImageRef: r.Repository, ReplacedBy: r.ReplacedBy,
			VulnID: r.VulnID, Package: r.Package, Severity: strings.ToUpper(cmp.Or(r.Severity, "unknown")), FirstSeenAt: r.FirstSeen})
	}
	return out, nil
}

// Exceptions lists the tenant's exceptions.
func (b *StoreBackend) Exceptions(ctx context.Context, tenant int64) ([]Exception, error) {
	es, err := b.st.Exceptions(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Exception, 0, len(es))
	for _, e := range es {
		out = append(out, Exception{ID: e.ID, VulnID: e.VulnID, Package: e.Package, Image: e.Image, Path: e.Path, Reason: e.Reason,
			Expires: e.Expires, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt, AppliedAt: tm(e.AppliedAt)})
	}
	return out, nil
}

// CreateException stores the exception in the tenant's policy, audits it
// and queues a re-evaluation of the images it concerns.
func (b *StoreBackend) CreateException(ctx context.Context, p Principal, e Exception) (Exception, error) {
	se, ids, err := b.st.CreateException(ctx, store.Principal{TokenID: p.TokenID, TenantID: p.TenantID, Tenant: p.TenantName, Scope: store.Scope(p.Scope)},
		store.Exception{VulnID: e.VulnID, Package: e.Package, Image: e.Image, Path: e.Path, Reason: e.Reason, Expires: e.Expires})
	if errors.Is(err, store.ErrInvalidPolicy) {
		return e, fmt.Errorf("%w: %v", ErrInvalidException, err)
	}
	if err != nil {
		return e, err
	}
	if b.q != nil && len(ids) > 0 {
		if err := b.q.EnqueueReevaluate(ctx, ids, "exception"); err != nil {
			b.log.Warn("web: queueing the re-evaluation for an exception", "err", err)
		}
	}
	e.ID, e.CreatedBy, e.CreatedAt = se.ID, se.CreatedBy, se.CreatedAt
	return e, nil
}
