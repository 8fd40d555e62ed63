package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// fakeBackend is an in-memory Backend for the handler's unit tests only;
// the browser tests run against the real vigil serve and its store.
type fakeBackend struct {
	mu         sync.Mutex
	tokens     map[string]Principal
	registries map[int64][]Registry
	images     map[int64][]Image
	findings   map[string][]Finding // by digest
	exceptions map[int64][]Exception
}

func newFakeBackend() *fakeBackend {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	b := &fakeBackend{
		tokens: map[string]Principal{
			"admin-a": {TenantID: 1, TenantName: "acme", Scope: "admin", TokenID: "ta"},
			"read-a":  {TenantID: 1, TenantName: "acme", Scope: "read", TokenID: "tr"},
			"admin-b": {TenantID: 2, TenantName: "other", Scope: "admin", TokenID: "tb"},
		},
		registries: map[int64][]Registry{
			1: {{ID: "r1", Name: "main", URL: "https://registry.example.com", Repositories: 1, Images: 1, Unhealthy: 1, Counts: Counts{High: 1}}},
			2: {{ID: "r2", Name: "theirs", URL: "https://b.example.com"}},
		},
		findings:   map[string][]Finding{},
		exceptions: map[int64][]Exception{},
	}
	evil := `<script>alert(1)</script>`
	dA := "sha256:" + strings.Repeat("a", 64)
	dB := "sha256:" + strings.Repeat("b", 64)
	b.images = map[int64][]Image{
		1: {{Digest: dA, RegistryID: "r1", RegistryName: "main", Repository: "shop/" + evil, Tags: []string{"1.0" + evil}, Status: "scanned", PushedAt: now,
			Counts: Counts{High: 1}, Running: true,
			CI: []CIRun{{Provider: "github-actions", Workflow: "build", RunURL: "https://github.com/acme/shop/actions/runs/42", Repository: "acme/shop", RepositoryURL: "javascript:alert(1)", Commit: "4f2a9c0d1e2f3a4b5c6d", Ref: "refs/heads/main"}}}},
		2: {{Digest: dB, RegistryID: "r2", RegistryName: "theirs", Repository: "secret/app", Status: "scanned"}},
	}
	b.findings[dA] = []Finding{{Key: "k1", Digest: dA, ImageRef: "shop/app:1.0", ID: "CVE-2021-3711", Package: "libssl1.1" + evil, Installed: "1.1.1d-r2", Fixed: []string{"1.1.1l-r0"},
		FixState: "fixed", Severity: "HIGH", CVSS: 9.8, EPSS: 0.12, KEV: true, LayerIndex: 0, LayerStep: "ADD file:abc in / " + evil, BaseLayer: true, FirstSeen: now, State: "open"}}
	for i := range 120 {
		b.findings[dA] = append(b.findings[dA], Finding{Key: fmt.Sprintf("n%03d", i), Digest: dA, ID: fmt.Sprintf("CVE-2020-%04d", i), Package: "musl", Installed: "1", Severity: "LOW", LayerIndex: -1, EPSS: -1, State: "open"})
	}
	b.findings[dB] = []Finding{{Key: "k9", Digest: dB, ID: "CVE-2099-0001", Package: "x", Severity: "CRITICAL", State: "open", LayerIndex: -1}}
	return b
}

func (b *fakeBackend) Authenticate(_ context.Context, token string) (Principal, error) {
	if p, ok := b.tokens[token]; ok {
		return p, nil
	}
	return Principal{}, ErrUnauthorized
}

func (b *fakeBackend) Overview(_ context.Context, t int64) (Overview, error) {
	ov := Overview{Images: len(b.images[t]), UnhealthyRegistries: b.registries[t]}
	for _, im := range b.images[t] {
		ov.Open.High += im.Counts.High
		ov.MostVulnerable = append(ov.MostVulnerable, im)
	}
	for i := range 30 {
		ov.Trend = append(ov.Trend, TrendPoint{Day: time.Date(2026, 11, 2+i, 0, 0, 0, 0, time.UTC), Open: i % 7})
	}
	ov.TopVulnerabilities = []VulnerabilityImpact{{ID: "CVE-2021-3711", Severity: "HIGH", Images: 1}}
	ov.DB = DBStatus{Built: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Sources: []FeedStatus{{Name: "alpine-secdb", Records: 10}}}
	return ov, nil
}

func (b *fakeBackend) Registries(_ context.Context, t int64) ([]Registry, error) {
	return b.registries[t], nil
}

func (b *fakeBackend) Registry(_ context.Context, t int64, id string) (Registry, error) {
	for _, r := range b.registries[t] {
		if r.ID == id {
			return r, nil
		}
	}
	return Registry{}, ErrNotFound
}

func (b *fakeBackend) Repositories(_ context.Context, t int64, reg, _ string) (Page[Repository], error) {
	var p Page[Repository]
	for _, im := range b.images[t] {
		if im.RegistryID == reg {
			p.Items = append(p.Items, Repository{RegistryID: reg, Name: im.Repository, Images: 1, Counts: im.Counts})
		}
	}
	return p, nil
}

func (b *fakeBackend) Images(_ context.Context, t int64, q ImageQuery) (Page[Image], error) {
	var p Page[Image]
	for _, im := range b.images[t] {
		if (q.RegistryID == "" || im.RegistryID == q.RegistryID) && (q.Repository == "" || im.Repository == q.Repository) &&
			(q.Text == "" || strings.Contains(im.Repository, q.Text) || strings.Contains(im.Digest, q.Text)) {
			p.Items = append(p.Items, im)
		}
	}
	p.Total = len(p.Items)
	return p, nil
}

func (b *fakeBackend) Image(_ context.Context, t int64, digest string) (Image, error) {
	for _, im := range b.images[t] {
		if im.Digest == digest {
			return im, nil
		}
	}
	return Image{}, ErrNotFound
}

// Findings pages by offset encoded as the token, as a store may.
func (b *fakeBackend) Findings(_ context.Context, t int64, q FindingQuery) (Page[Finding], error) {
	var all []Finding
	for _, im := range b.images[t] {
		if q.Digest != "" && im.Digest != q.Digest {
			continue
		}
		for _, f := range b.findings[im.Digest] {
			if (q.Severity == "" || f.Severity == q.Severity) && (q.VulnID == "" || strings.EqualFold(f.ID, q.VulnID)) &&
				(q.Package == "" || f.Package == q.Package) && (!q.KEV || f.KEV) {
				all = append(all, f)
			}
		}
	}
	off := 0
	fmt.Sscanf(q.After, "o%d", &off)
	p := Page[Finding]{Total: len(all)}
	end := min(off+q.Limit, len(all))
	if off < len(all) {
		p.Items = all[off:end]
	}
	if end < len(all) {
		p.Next = fmt.Sprintf("o%d", end)
	}
	return p, nil
}

func (b *fakeBackend) Finding(ctx context.Context, t int64, digest, key string) (FindingDetail, error) {
	im, err := b.Image(ctx, t, digest)
	if err != nil {
		return FindingDetail{}, err
	}
	for _, f := range b.findings[digest] {
		if f.Key == key {
			b.mu.Lock()
			defer b.mu.Unlock()
			return FindingDetail{Finding: f, Image: im, Description: "Advisory text <img src=x onerror=alert(1)>",
				References: []string{"https://example.com/a", "javascript:alert(2)"}, Remediation: "apk add --upgrade libssl1.1=1.1.1l-r0",
				CVSSVectors: []CVSSVector{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Source: "nvd"}},
				Exceptions:  b.exceptions[t]}, nil
		}
	}
	return FindingDetail{}, ErrNotFound
}

func (b *fakeBackend) Remediation(context.Context, int64, RemediationQuery) (Page[RemediationEvent], error) {
	return Page[RemediationEvent]{}, nil
}

func (b *fakeBackend) Exceptions(_ context.Context, t int64) ([]Exception, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exceptions[t], nil
}

func (b *fakeBackend) CreateException(_ context.Context, p Principal, e Exception) (Exception, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e.ID = int64(len(b.exceptions[p.TenantID]) + 1)
	e.CreatedBy = p.TokenID
	b.exceptions[p.TenantID] = append(b.exceptions[p.TenantID], e)
	return e, nil
}
