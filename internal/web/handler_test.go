package web

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vuln"
)

var (
	digestA = "sha256:" + strings.Repeat("a", 64)
	digestB = "sha256:" + strings.Repeat("b", 64)
	digestC = "sha256:" + strings.Repeat("c", 64) // known only from a CI publish
)

// env is a real SQLite service store seeded through its own write API:
// tenant acme (admin and read tokens, registry main, an image with hostile
// names, 121 findings and CI runs, and a CI-only image) and tenant other
// (an admin token, registry theirs, an image with one finding). The
// findings are a small hand-made fixture for escaping and paging, not
// vulnerability data.
type env struct {
	st                    *store.Store
	dir                   string
	tenantA               int64
	adminA, readA, adminB string
	regA, regB            string
	keyA, keyB            string // finding ids in URLs
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	keys, err := store.LoadKeyring("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Options{DataDir: dir, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func seed(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{dir: t.TempDir()}
	e.st = openStore(t, e.dir)
	t.Cleanup(func() { e.st.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	e.adminA, err = e.st.CreateToken(ctx, "acme", store.ScopeAdmin)
	must(err)
	e.readA, err = e.st.CreateToken(ctx, "acme", store.ScopeRead)
	must(err)
	e.adminB, err = e.st.CreateToken(ctx, "other", store.ScopeAdmin)
	must(err)
	ta, err := e.st.EnsureTenant(ctx, "acme")
	must(err)
	tb, err := e.st.EnsureTenant(ctx, "other")
	must(err)
	e.tenantA = ta.ID
	ra, err := e.st.CreateRegistry(ctx, ta.ID, store.NewRegistry{Name: "main", URL: "https://registry.example.com"})
	must(err)
	rb, err := e.st.CreateRegistry(ctx, tb.ID, store.NewRegistry{Name: "theirs", URL: "https://b.example.com"})
	must(err)
	e.regA, e.regB = ra.ID, rb.ID

	evil := `<script>alert(1)</script>`
	res, err := e.st.RecordEvents(ctx, []store.ImageEvent{{TenantID: ta.ID, RegistryID: ra.ID, Repository: "shop/" + evil, Digest: digestA, Tag: "1.0" + evil, Action: store.ActionPush}})
	must(err)
	fs := []vuln.Finding{{ID: "CVE-2021-3711", Package: vuln.PackageRef{Name: "libssl1.1" + evil, Version: "1.1.1d-r2", Type: "apk"},
		FixedVersions: []string{"1.1.1l-r0"}, FixState: vuln.FixStateFixed, Severity: "HIGH", Description: "Advisory text <img src=x onerror=alert(1)>",
		References: []string{"https://example.com/a", "javascript:alert(2)"}, Remediation: "apk add --upgrade libssl1.1=1.1.1l-r0",
		CVSS: []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Source: "nvd"}},
		EPSS: &vuln.EPSS{Score: 0.12, Percentile: 0.9}, KEV: &vuln.KEV{DateAdded: "2024-01-01"},
		Layer: &inventory.LayerRef{Index: 0, DiffID: "sha256:" + strings.Repeat("d", 64), CreatedBy: "ADD file:abc in / " + evil, Base: true}}}
	for i := range 120 {
		fs = append(fs, vuln.Finding{ID: fmt.Sprintf("CVE-2020-%04d", i), Package: vuln.PackageRef{Name: "musl", Version: "1", Type: "apk"}, Severity: "LOW", FixState: vuln.FixStateNotFixed})
	}
	_, err = e.st.ApplyEvaluation(ctx, store.Evaluation{ImageID: res[0].ImageID, Kind: "scan", Findings: fs})
	must(err)
	for i, run := range []store.CIRunInput{
		{Provider: "github-actions", Workflow: "build", RunURL: "https://github.com/acme/shop/actions/runs/42", SourceRepo: "acme/shop", Commit: "4f2a9c0d1e2f3a4b5c6d", Ref: "refs/heads/main"},
		{Provider: "github-actions", Workflow: evil, RunURL: "javascript:alert(1)//acme/shop/x", SourceRepo: "acme/shop", Commit: "5f", Ref: evil},
	} {
		run.IdempotencyKey, run.Digest, run.Repository, run.Report = fmt.Sprint("k", i), digestA, "shop/"+evil, "{}"
		_, _, _, err = e.st.RecordCIRun(ctx, ta.ID, run)
		must(err)
	}
	_, ci, _, err := e.st.RecordCIRun(ctx, ta.ID, store.CIRunInput{IdempotencyKey: "ci-only", Digest: digestC, Repository: "ci/only", Provider: "gitlab-ci",
		Workflow: "build", RunURL: "https://gitlab.example.com/acme/tool/-/pipelines/7", SourceRepo: "acme/tool", Commit: "abc", Ref: "main", Report: "{}"})
	must(err)
	_, err = e.st.ApplyEvaluation(ctx, store.Evaluation{ImageID: ci, Kind: "scan", Findings: []vuln.Finding{{ID: "CVE-2022-0001", Package: vuln.PackageRef{Name: "zlib", Type: "apk"}, Severity: "MEDIUM"}}})
	must(err)

	res, err = e.st.RecordEvents(ctx, []store.ImageEvent{{TenantID: tb.ID, RegistryID: rb.ID, Repository: "secret/app", Digest: digestB, Tag: "1", Action: store.ActionPush}})
	must(err)
	_, err = e.st.ApplyEvaluation(ctx, store.Evaluation{ImageID: res[0].ImageID, Kind: "scan", Findings: []vuln.Finding{{ID: "CVE-2099-0001", Package: vuln.PackageRef{Name: "x", Type: "apk"}, Severity: "CRITICAL"}}})
	must(err)
	e.keyA = findingKey(t, e.st, ta.ID, digestA, "CVE-2021-3711")
	e.keyB = findingKey(t, e.st, tb.ID, digestB, "CVE-2099-0001")
	return e
}

func findingKey(t *testing.T, st *store.Store, tenant int64, digest, id string) string {
	t.Helper()
	rows, err := st.ImageFindingRows(context.Background(), tenant, digest)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Finding.ID == id {
			return strconv.FormatInt(r.ID, 10)
		}
	}
	t.Fatalf("no finding %s in %s", id, digest)
	return ""
}

func (e *env) exceptions(t *testing.T) int {
	t.Helper()
	es, err := e.st.Exceptions(context.Background(), e.tenantA)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

type client struct {
	t    *testing.T
	srv  *httptest.Server
	http *http.Client
}

func serve(t *testing.T, st *store.Store) *httptest.Server {
	t.Helper()
	h, err := New(NewStoreBackend(st, nil, nil, nil), Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newServer(t *testing.T) (*httptest.Server, *env) {
	t.Helper()
	e := seed(t)
	return serve(t, e.st), e
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, srv: srv, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.srv.URL)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) signIn(token string) {
	c.t.Helper()
	resp, body := c.do("POST", "/signin", url.Values{"token": {token}, "next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.do("GET", path, nil)
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func TestSignInAndCookie(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	resp, _ := c.do("GET", "/", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
		t.Fatalf("unauthenticated GET / = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := c.do("POST", "/signin", url.Values{"token": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
		t.Fatalf("bad token = %d", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/signin", url.Values{"token": {e.readA}, "next": {"//evil.example/x"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("open redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == cookieName {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure {
		t.Fatalf("session cookie over plain HTTP = %+v", ck)
	}
	resp, body = c.do("GET", "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Container registry images should have vulnerability findings resolved") {
		t.Fatalf("overview = %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	// Sign out ends the session server-side.
	tok := c.csrf("/")
	resp, _ = c.do("POST", "/signout", url.Values{csrfField: {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out = %d", resp.StatusCode)
	}
	resp, _ = c.do("GET", "/", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign out GET / = %d", resp.StatusCode)
	}
}

func TestSignInCrossSite(t *testing.T) {
	srv, e := newServer(t)
	req, _ := http.NewRequest("POST", srv.URL+"/signin", strings.NewReader("token="+e.readA))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site sign-in = %d, want 403", resp.StatusCode)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	e := seed(t)
	h, err := New(NewStoreBackend(e.st, nil, nil, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "https://vigil.example/signin", strings.NewReader("token="+e.readA))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	c := rec.Result().Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie over TLS = %+v", c)
	}
}

func TestCSRF(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.adminA)
	form := url.Values{"digest": {digestA}, "key": {e.keyA}, "vuln_id": {"CVE-2021-3711"}, "reason": {"not reachable"}}
	for name, tok := range map[string]string{"missing": "", "forged": "AAAA"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tok != "" {
			f.Set(csrfField, tok)
		}
		resp, _ := c.do("POST", "/exceptions", f)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d, want 403", name, resp.StatusCode)
		}
	}
	// Another session's token does not work either: tokens are bound to the session.
	other := newClient(t, srv)
	other.signIn(e.adminA)
	form.Set(csrfField, other.csrf("/"))
	if resp, _ := c.do("POST", "/exceptions", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("other session's CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/signout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign out without CSRF token: %d, want 403", resp.StatusCode)
	}
	if e.exceptions(t) != 0 {
		t.Fatal("an exception was created without a valid CSRF token")
	}
	form.Set(csrfField, c.csrf("/"))
	resp, _ := c.do("POST", "/exceptions", form)
	if resp.StatusCode != http.StatusSeeOther || e.exceptions(t) != 1 {
		t.Fatalf("valid exception: %d, %d stored", resp.StatusCode, e.exceptions(t))
	}
}

func TestExceptionRules(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.adminA)
	tok := c.csrf("/")
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"vuln_id": {"CVE-2021-3711"}}, "reason"},
		{url.Values{"reason": {"x"}}, "needs an id, a package or both"},
		{url.Values{"vuln_id": {"CVE-*"}, "reason": {"x"}}, "id must be one vulnerability id"},
		{url.Values{"package": {"[a"}, "reason": {"x"}}, "package"},
		{url.Values{"vuln_id": {"CVE-1"}, "reason": {"x"}, "expires": {"2001-01-01"}}, "in the past"},
		{url.Values{"vuln_id": {"CVE-1"}, "reason": {"x"}, "expires": {"tomorrow"}}, "not a date"},
	} {
		tc.form.Set(csrfField, tok)
		tc.form.Set("digest", digestA)
		tc.form.Set("key", e.keyA)
		resp, body := c.do("POST", "/exceptions", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d, want 422 with %q", tc.form, resp.StatusCode, tc.want)
		}
	}
	if e.exceptions(t) != 0 {
		t.Fatal("an invalid exception was stored")
	}
	// Read-only principals may not create exceptions.
	r := newClient(t, srv)
	r.signIn(e.readA)
	resp, _ := r.do("POST", "/exceptions", url.Values{csrfField: {r.csrf("/")}, "vuln_id": {"CVE-1"}, "reason": {"x"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("read scope exception: %d, want 403", resp.StatusCode)
	}
}

func TestTenantIsolation(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.adminA)
	for _, p := range []string{
		"/images/" + digestB, "/images/" + digestB + "/findings/" + e.keyB, "/images/" + digestA + "/findings/" + e.keyB, "/registries/" + e.regB,
		"/registries/" + e.regB + "/repositories/secret/app", "/images/" + digestA + "/findings/999999999", "/images/not-a-digest", "/registries/..%2f", "/nope",
	} {
		resp, body := c.do("GET", p, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
		if strings.Contains(body, "secret/app") || strings.Contains(body, "CVE-2099-0001") {
			t.Errorf("GET %s leaks the other tenant's data", p)
		}
	}
	_, body := c.do("GET", "/search?q=CVE-2099-0001", nil)
	if strings.Contains(body, digestB) {
		t.Error("search leaks the other tenant's image")
	}
}

func TestEscaping(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.adminA)
	for _, p := range []string{"/", "/registries/" + e.regA, "/images/" + digestA, "/images/" + digestA + "/findings/" + e.keyA, "/search?q=shop", "/search?q=%3Cscript%3E"} {
		resp, body := c.do("GET", p, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d", p, resp.StatusCode)
		}
		for _, raw := range []string{"<script>alert", "<img src=x", `href="javascript:`} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s: unescaped %q", p, raw)
			}
		}
	}
	_, body := c.do("GET", "/images/"+digestA, nil)
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("image page does not show the escaped name")
	}
	if !strings.Contains(body, "https://github.com/acme/shop/actions/runs/42") || !strings.Contains(body, "4f2a9c0d1e2f") {
		t.Error("image page lacks the CI bubble")
	}
}

func TestFindingsPaginationAndFilters(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.readA)
	_, body := c.do("GET", "/images/"+digestA, nil)
	if n := strings.Count(body, "/findings/"); n != pageSize {
		t.Fatalf("first page shows %d findings, want %d", n, pageSize)
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no next-page link")
	}
	_, body = c.do("GET", strings.ReplaceAll(next[1], "&amp;", "&"), nil)
	if !strings.Contains(body, "CVE-2020-0049") || strings.Contains(body, "CVE-2020-0048<") {
		t.Error("second page does not continue the first")
	}
	_, body = c.do("GET", "/images/"+digestA+"?severity=HIGH&kev=1&sort=cvss&dir=desc", nil)
	if !strings.Contains(body, "CVE-2021-3711") || strings.Contains(body, "CVE-2020-0001") {
		t.Error("severity filter not applied")
	}
	if !strings.Contains(body, `aria-sort="descending"`) {
		t.Error("sort state not shown")
	}
	// Hostile parameters are dropped, not passed on.
	resp, _ := c.do("GET", "/images/"+digestA+"?severity=%3Cx%3E&sort=;drop&page=%00", nil)
	if resp.StatusCode != 200 {
		t.Errorf("hostile query = %d", resp.StatusCode)
	}
}

func TestEveryPageRenders(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.adminA)
	for _, p := range []string{"/", "/registries", "/registries/" + e.regA, "/registries/" + e.regA + "/repositories/shop/%3Cscript%3Ealert(1)%3C/script%3E",
		"/images/" + digestA, "/images/" + digestA + "/findings/" + e.keyA, "/images/" + digestC, "/registries/ci", "/registries/ci/repositories/ci/only", "/remediation", "/remediation?kind=fixed", "/search", "/search?q=CVE-2021-3711",
		"/search?q=" + digestA, "/static/app.css", "/static/app.js"} {
		resp, body := c.do("GET", p, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
		if len(body) > 150<<10 {
			t.Errorf("GET %s is %d bytes", p, len(body))
		}
	}
	_, body := c.do("GET", "/images/"+digestA+"/findings/"+e.keyA, nil)
	for _, want := range []string{"CVSS:3.1/AV:N", "apk add --upgrade", "Create exception", "https://example.com/a"} {
		if !strings.Contains(body, want) {
			t.Errorf("finding page lacks %q", want)
		}
	}
}

func TestNormalizeVulnID(t *testing.T) {
	for in, want := range map[string]string{"cve-2021-3711": "CVE-2021-3711", "ghsa-JFH8-c2jp-5v3q": "GHSA-jfh8-c2jp-5v3q", "alsa-2024:0265": "ALSA-2024:0265", "go-2022-0001": "GO-2022-0001"} {
		if got := normalizeVulnID(in); got != want {
			t.Errorf("normalizeVulnID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"/images/x?a=1": "/images/x?a=1", "//evil": "/", "https://evil": "/", "/\\evil": "/", "": "/", "/a\r\nb": "/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTrendChart(t *testing.T) {
	if c := newTrendChart(nil); !c.Empty {
		t.Error("no points should be empty")
	}
	c := newTrendChart([]TrendPoint{{Open: 0}, {Open: 7}, {Open: 3}})
	if len(c.Points) != 3 || c.YTicks[4].Label != "12" || !strings.HasPrefix(c.Line, "M48.0 ") {
		t.Errorf("chart = %+v", c)
	}
	for _, v := range []int{0, 1, 4, 5, 9, 11, 99, 1000001} {
		if n := niceCeil(v); n < v || n%4 != 0 {
			t.Errorf("niceCeil(%d) = %d", v, n)
		}
	}
}

// TestSessionSurvivesRestart signs in, restarts the UI on a reopened
// store (the database is all they share, as API replicas would), and
// uses the same cookie and CSRF token; then the session expires.
func TestSessionSurvivesRestart(t *testing.T) {
	e := seed(t)
	srv := serve(t, e.st)
	c := newClient(t, srv)
	c.signIn(e.adminA)
	tok := c.csrf("/")
	srv.Close()
	e.st.Close()

	st := openStore(t, e.dir)
	t.Cleanup(func() { st.Close() })
	srv2 := serve(t, st)
	c.srv = srv2
	// The jar holds the cookie for the old server's host; carry it over.
	old, _ := url.Parse(srv.URL)
	u, _ := url.Parse(srv2.URL)
	c.http.Jar.SetCookies(u, c.http.Jar.Cookies(old))
	if resp, body := c.do("GET", "/", nil); resp.StatusCode != 200 || !strings.Contains(body, "acme") {
		t.Fatalf("after a restart GET / = %d", resp.StatusCode)
	}
	// The CSRF token is the session's, so it still works.
	form := url.Values{"digest": {digestA}, "key": {e.keyA}, "vuln_id": {"CVE-2021-3711"}, "reason": {"not reachable"}, csrfField: {tok}}
	if resp, _ := c.do("POST", "/exceptions", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("exception after a restart = %d", resp.StatusCode)
	}
	// Twelve hours later the session is over.
	st.SetClock(func() time.Time { return time.Now().Add(sessionTTL + time.Minute) })
	if resp, _ := c.do("GET", "/", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("expired session GET / = %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestSignOutEndsSessionEverywhere(t *testing.T) {
	e := seed(t)
	srv1, srv2 := serve(t, e.st), serve(t, e.st) // two replicas, one database
	c := newClient(t, srv1)
	c.signIn(e.readA)
	u1, _ := url.Parse(srv1.URL)
	u2, _ := url.Parse(srv2.URL)
	c2 := newClient(t, srv2)
	c2.http.Jar.SetCookies(u2, c.http.Jar.Cookies(u1))
	if resp, _ := c2.do("GET", "/registries", nil); resp.StatusCode != 200 {
		t.Fatalf("the other replica: %d", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/signout", url.Values{csrfField: {c.csrf("/")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out = %d", resp.StatusCode)
	}
	if resp, _ := c2.do("GET", "/registries", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other replica after sign-out: %d, want a redirect", resp.StatusCode)
	}
}

// TestCIOnlyImage follows the links of an image known only from `vigil
// publish`: its registry crumb leads to the CI/CD only pseudo-registry,
// which lists its repository and image.
func TestCIOnlyImage(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.readA)
	_, body := c.do("GET", "/images/"+digestC, nil)
	for _, want := range []string{`href="/registries/ci">CI/CD only</a>`, `href="/registries/ci/repositories/ci/only"`, "gitlab.example.com/acme/tool/-/pipelines/7"} {
		if !strings.Contains(body, want) {
			t.Errorf("CI-only image page lacks %s", want)
		}
	}
	resp, body := c.do("GET", "/registries/ci", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "/registries/ci/repositories/ci/only") || strings.Contains(body, "shop/") {
		t.Errorf("CI/CD only registry = %d", resp.StatusCode)
	}
	resp, body = c.do("GET", "/registries/ci/repositories/ci/only", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "/images/"+digestC) {
		t.Errorf("CI/CD only repository = %d, lists the image: %v", resp.StatusCode, strings.Contains(body, digestC))
	}
	if _, body := c.do("GET", "/registries", nil); !strings.Contains(body, "CI/CD only") {
		t.Error("the registries page does not list CI/CD only")
	}
	// Another tenant's CI-only view is its own (empty).
	o := newClient(t, srv)
	o.signIn(e.adminB)
	if _, body := o.do("GET", "/registries/ci/repositories/ci/only", nil); strings.Contains(body, digestC) {
		t.Error("another tenant sees acme's CI-only image")
	}
}

func TestSearchByVulnID(t *testing.T) {
	srv, e := newServer(t)
	c := newClient(t, srv)
	c.signIn(e.readA)
	_, body := c.do("GET", "/search?q=cve-2021-3711", nil)
	if !strings.Contains(body, "Images with CVE-2021-3711 open") || !strings.Contains(body, `href="/images/`+digestA+`"`) || strings.Contains(body, digestC) {
		t.Error("a CVE search does not list the images that have it open")
	}
	_, body = c.do("GET", "/search?q=CVE-2099-0001", nil)
	if !strings.Contains(body, "No image has CVE-2099-0001 open") || strings.Contains(body, digestB) {
		t.Error("a CVE search shows another tenant's image")
	}
}

// TestEmptyRegistryPagesGiveTheRightCommand: an empty registry's page
// names its webhook and an image reference with its host; the CI/CD only
// pseudo-registry has no webhook, so its empty state says only how to
// publish.
func TestEmptyRegistryPagesGiveTheRightCommand(t *testing.T) {
	srv, e := newServer(t)
	reg, err := e.st.CreateRegistry(t.Context(), e.tenantA, store.NewRegistry{Name: "empty", URL: "http://127.0.0.1:5000"})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	c.signIn(e.adminA)
	_, body := c.do("GET", "/registries/"+reg.ID, nil)
	for _, want := range []string{"/api/v1/webhooks/distribution/" + reg.ID, "vigil image 127.0.0.1:5000/app:1.0 --publish"} {
		if !strings.Contains(body, want) {
			t.Errorf("empty registry page lacks %q", want)
		}
	}
	b := newClient(t, srv)
	b.signIn(e.adminB)
	// An image no CI run published: the command to link one names the
	// registry host, or `vigil image` would look on Docker Hub.
	if _, body := b.do("GET", "/images/"+digestB, nil); !strings.Contains(body, "vigil image b.example.com/secret/app:1 --publish") {
		t.Errorf("image page without CI lacks the publish command with the registry host")
	}
	resp, body := b.do("GET", "/registries/ci", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "No image known only from CI/CD") || strings.Contains(body, "webhooks/distribution/ci") || strings.Contains(body, "CI/CD only/app") {
		t.Errorf("empty CI/CD only page: %d %s", resp.StatusCode, body)
	}
}
