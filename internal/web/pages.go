package web

import (
	"net/http"
	"strings"
)

type overviewData struct {
	Overview
	Trend     trendChart
	OpenBars  severityBars
	FixBars   severityBars
	RunBars   severityBars
	KEVBars   severityBars
	Registers int
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, st *reqState) {
	tenant := st.session.principal.TenantID
	ov, err := h.backend.Overview(r.Context(), tenant)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	d := overviewData{
		Overview:  ov,
		Trend:     newTrendChart(ov.Trend),
		OpenBars:  newSeverityBars(ov.Open),
		FixBars:   newSeverityBars(ov.Fixable),
		RunBars:   newSeverityBars(ov.Running),
		KEVBars:   newSeverityBars(ov.KEV),
		Registers: ov.Registries,
	}
	h.render(w, r, st, http.StatusOK, "overview", "Overview", "overview", d)
}

func (h *Handler) registries(w http.ResponseWriter, r *http.Request, st *reqState) {
	regs, err := h.backend.Registries(r.Context(), st.session.principal.TenantID)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	h.render(w, r, st, http.StatusOK, "registries", "Registries", "registries", regs)
}

// pathID reads an id path segment: short and URL-safe, or a 404.
func pathID(r *http.Request, name string) (string, bool) {
	id := r.PathValue(name)
	if id == "" || len(id) > 64 {
		return "", false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return id, true
}

type registryData struct {
	Registry     Registry
	Repositories []Repository
	Pager        pager
}

func (h *Handler) registry(w http.ResponseWriter, r *http.Request, st *reqState) {
	id, ok := pathID(r, "id")
	if !ok {
		h.fail(w, r, st, ErrNotFound)
		return
	}
	tenant := st.session.principal.TenantID
	reg, err := h.backend.Registry(r.Context(), tenant, id)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	after := tokenParam(r.URL.Query(), "page")
	repos, err := h.backend.Repositories(r.Context(), tenant, id, after)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	l := newLink(r.URL.Path, r.URL.Query())
	h.render(w, r, st, http.StatusOK, "registry", reg.Name, "registries", registryData{
		Registry: reg, Repositories: repos.Items, Pager: newPager(l, "page", after, len(repos.Items), repos.Next, repos.Total)})
}

type repositoryData struct {
	Registry   Registry
	Repository string
	Images     []Image
	Link       link
	Pager      pager
}

func (h *Handler) repository(w http.ResponseWriter, r *http.Request, st *reqState) {
	id, ok := pathID(r, "id")
	repo := r.PathValue("repo")
	if !ok || repo == "" {
		h.fail(w, r, st, ErrNotFound)
		return
	}
	tenant := st.session.principal.TenantID
	reg, err := h.backend.Registry(r.Context(), tenant, id)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	q := imageQuery(r.URL.Query())
	q.RegistryID, q.Repository = id, repo
	page, err := h.backend.Images(r.Context(), tenant, q)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	l := newLink(r.URL.Path, r.URL.Query())
	h.render(w, r, st, http.StatusOK, "repository", repo, "registries", repositoryData{
		Registry: reg, Repository: repo, Images: page.Items, Link: l,
		Pager: newPager(l, "page", q.After, len(page.Items), page.Next, page.Total),
	})
}

type imageData struct {
	Image    Image
	Findings []Finding
	Query    FindingQuery
	Link     link
	Pager    pager
}

func (h *Handler) image(w http.ResponseWriter, r *http.Request, st *reqState) {
	digest := r.PathValue("digest")
	if !validDigest(digest) {
		h.fail(w, r, st, ErrNotFound)
		return
	}
	tenant := st.session.principal.TenantID
	img, err := h.backend.Image(r.Context(), tenant, digest)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	q := findingQuery(r.URL.Query())
	q.Digest = digest
	page, err := h.backend.Findings(r.Context(), tenant, q)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	l := newLink(r.URL.Path, r.URL.Query())
	h.render(w, r, st, http.StatusOK, "image", img.Reference(), "registries", imageData{
		Image: img, Findings: page.Items, Query: q, Link: l,
		Pager: newPager(l, "page", q.After, len(page.Items), page.Next, page.Total),
	})
}

// validDigest accepts algorithm:hex digests only.
func validDigest(d string) bool {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || alg == "" || len(alg) > 16 || len(hex) < 32 || len(hex) > 128 {
		return false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

type findingData struct {
	FindingDetail
	CanExcept    bool
	ExceptionErr string
	Draft        Exception
}

func (h *Handler) finding(w http.ResponseWriter, r *http.Request, st *reqState) {
	digest, key := r.PathValue("digest"), r.PathValue("key")
	if !validDigest(digest) || key == "" || len(key) > 512 {
		h.fail(w, r, st, ErrNotFound)
		return
	}
	p := st.session.principal
	fd, err := h.backend.Finding(r.Context(), p.TenantID, digest, key)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	d := findingData{FindingDetail: fd, CanExcept: p.Admin(), Draft: draftException(fd)}
	h.render(w, r, st, http.StatusOK, "finding", fd.ID+" in "+fd.Package, "registries", d)
}

// draftException is the exception form's starting point: this vulnerability
// in this package, in this repository of any registry host, by tag or
// digest ("*/shop/api[:@]*" matches "registry:5000/shop/api@sha256:…").
func draftException(fd FindingDetail) Exception {
	img := ""
	if fd.Image.Repository != "" && !strings.ContainsAny(fd.Image.Repository, "*?[]\\") {
		img = "*/" + fd.Image.Repository + "[:@]*"
	}
	return Exception{VulnID: fd.ID, Package: fd.Package, Image: img}
}

type remediationData struct {
	Events     []RemediationEvent
	Exceptions []Exception
	Kind       string
	Link       link
	Pager      pager
}

func (h *Handler) remediation(w http.ResponseWriter, r *http.Request, st *reqState) {
	tenant := st.session.principal.TenantID
	v := r.URL.Query()
	q := RemediationQuery{Kind: oneOf(v.Get("kind"), []string{"fixed", "replaced", "deleted"}), After: tokenParam(v, "page"), Limit: pageSize}
	page, err := h.backend.Remediation(r.Context(), tenant, q)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	exc, err := h.backend.Exceptions(r.Context(), tenant)
	if err != nil {
		h.fail(w, r, st, err)
		return
	}
	l := newLink(r.URL.Path, v)
	h.render(w, r, st, http.StatusOK, "remediation", "Remediation", "remediation", remediationData{
		Events: page.Items, Exceptions: exc, Kind: q.Kind, Link: l,
		Pager: newPager(l, "page", q.After, len(page.Items), page.Next, page.Total),
	})
}

type searchData struct {
	Q             string
	Images        []Image
	Findings      []Finding
	ImagePager    pager
	FindingPager  pager
	Link          link
	FindingFilter FindingQuery
}

// search finds images by reference, tag or digest and findings by CVE (or
// other) id, package name or title across the tenant, one page of each.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, st *reqState) {
	tenant := st.session.principal.TenantID
	v := r.URL.Query()
	q := limitText(v.Get("q"))
	l := newLink(r.URL.Path, v)
	d := searchData{Q: q, Link: l}
	if q != "" {
		// A vulnerability id lists the images that have it open; other
		// text searches image references, tags and digests.
		iq := ImageQuery{Text: q, After: tokenParam(v, "ipage"), Limit: pageSize}
		if looksLikeVulnID(q) {
			iq.Text, iq.VulnID = "", normalizeVulnID(q)
		}
		imgs, err := h.backend.Images(r.Context(), tenant, iq)
		if err != nil {
			h.fail(w, r, st, err)
			return
		}
		fq := findingQuery(v)
		fq.Text, fq.After = "", tokenParam(v, "fpage")
		if looksLikeVulnID(q) {
			fq.VulnID = normalizeVulnID(q)
		} else {
			fq.Package = q
		}
		fs, err := h.backend.Findings(r.Context(), tenant, fq)
		if err != nil {
			h.fail(w, r, st, err)
			return
		}
		d.Images, d.Findings, d.FindingFilter = imgs.Items, fs.Items, fq
		d.ImagePager = newPager(l, "ipage", iq.After, len(imgs.Items), imgs.Next, imgs.Total)
		d.FindingPager = newPager(l, "fpage", fq.After, len(fs.Items), fs.Next, fs.Total)
	}
	h.render(w, r, st, http.StatusOK, "search", "Search", "search", d)
}

// normalizeVulnID spells a typed id as the feeds do: the prefix in upper
// case, a GHSA id's rest in lower case (GHSA-jfh8-c2jp-5v3q), other ids'
// rest in upper case (CVE-2021-3711, ALSA-2024:0265).
func normalizeVulnID(id string) string {
	prefix, rest, ok := strings.Cut(strings.TrimSpace(id), "-")
	if !ok {
		return strings.ToUpper(id)
	}
	prefix = strings.ToUpper(prefix)
	if prefix == "GHSA" {
		return prefix + "-" + strings.ToLower(rest)
	}
	return prefix + "-" + strings.ToUpper(rest)
}

// looksLikeVulnID tells an advisory id (CVE-2021-3711, GHSA-…, GO-2022-0001,
// ALSA-2024:0265) from a package name.
func looksLikeVulnID(q string) bool {
	up := strings.ToUpper(q)
	for _, p := range []string{"CVE-", "GHSA-", "GO-", "PYSEC-", "RUSTSEC-", "ALSA-", "ALBA-", "ALEA-", "DSA-", "DLA-", "OSV-"} {
		if strings.HasPrefix(up, p) && len(q) > len(p) && strings.ContainsAny(q[len(p):], "0123456789") {
			return true
		}
	}
	return false
}
