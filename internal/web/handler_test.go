package web

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	digestA = "sha256:" + strings.Repeat("a", 64)
	digestB = "sha256:" + strings.Repeat("b", 64)
)

type client struct {
	t    *testing.T
	srv  *httptest.Server
	http *http.Client
}

func newServer(t *testing.T) (*httptest.Server, *fakeBackend) {
	t.Helper()
	b := newFakeBackend()
	h, err := New(b, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, b
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
	srv, _ := newServer(t)
	c := newClient(t, srv)
	resp, _ := c.do("GET", "/", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
		t.Fatalf("unauthenticated GET / = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := c.do("POST", "/signin", url.Values{"token": {"wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
		t.Fatalf("bad token = %d", resp.StatusCode)
	}
	resp, _ = c.do("POST", "/signin", url.Values{"token": {"read-a"}, "next": {"//evil.example/x"}})
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
	srv, _ := newServer(t)
	req, _ := http.NewRequest("POST", srv.URL+"/signin", strings.NewReader("token=read-a"))
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
	h, err := New(newFakeBackend(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "https://vigil.example/signin", strings.NewReader("token=read-a"))
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
	srv, b := newServer(t)
	c := newClient(t, srv)
	c.signIn("admin-a")
	form := url.Values{"digest": {digestA}, "key": {"k1"}, "vuln_id": {"CVE-2021-3711"}, "reason": {"not reachable"}}
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
	other.signIn("admin-a")
	form.Set(csrfField, other.csrf("/"))
	if resp, _ := c.do("POST", "/exceptions", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("other session's CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/signout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign out without CSRF token: %d, want 403", resp.StatusCode)
	}
	if len(b.exceptions[1]) != 0 {
		t.Fatal("an exception was created without a valid CSRF token")
	}
	form.Set(csrfField, c.csrf("/"))
	resp, _ := c.do("POST", "/exceptions", form)
	if resp.StatusCode != http.StatusSeeOther || len(b.exceptions[1]) != 1 {
		t.Fatalf("valid exception: %d, %d stored", resp.StatusCode, len(b.exceptions[1]))
	}
}

func TestExceptionRules(t *testing.T) {
	srv, b := newServer(t)
	c := newClient(t, srv)
	c.signIn("admin-a")
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
		tc.form.Set("key", "k1")
		resp, body := c.do("POST", "/exceptions", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d, want 422 with %q", tc.form, resp.StatusCode, tc.want)
		}
	}
	if len(b.exceptions[1]) != 0 {
		t.Fatal("an invalid exception was stored")
	}
	// Read-only principals may not create exceptions.
	r := newClient(t, srv)
	r.signIn("read-a")
	resp, _ := r.do("POST", "/exceptions", url.Values{csrfField: {r.csrf("/")}, "vuln_id": {"CVE-1"}, "reason": {"x"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("read scope exception: %d, want 403", resp.StatusCode)
	}
}

func TestTenantIsolation(t *testing.T) {
	srv, _ := newServer(t)
	c := newClient(t, srv)
	c.signIn("admin-a")
	for _, p := range []string{
		"/images/" + digestB, "/images/" + digestB + "/findings/k9", "/registries/r2",
		"/registries/r2/repositories/secret/app", "/images/not-a-digest", "/registries/..%2f", "/nope",
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
	srv, _ := newServer(t)
	c := newClient(t, srv)
	c.signIn("admin-a")
	for _, p := range []string{"/", "/registries/r1", "/images/" + digestA, "/images/" + digestA + "/findings/k1", "/search?q=shop", "/search?q=%3Cscript%3E"} {
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
	srv, _ := newServer(t)
	c := newClient(t, srv)
	c.signIn("read-a")
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
	srv, _ := newServer(t)
	c := newClient(t, srv)
	c.signIn("admin-a")
	for _, p := range []string{"/", "/registries", "/registries/r1", "/registries/r1/repositories/shop/%3Cscript%3Ealert(1)%3C/script%3E",
		"/images/" + digestA, "/images/" + digestA + "/findings/k1", "/remediation", "/remediation?kind=fixed", "/search", "/search?q=CVE-2021-3711",
		"/search?q=" + digestA, "/static/app.css", "/static/app.js"} {
		resp, body := c.do("GET", p, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
		if len(body) > 150<<10 {
			t.Errorf("GET %s is %d bytes", p, len(body))
		}
	}
	_, body := c.do("GET", "/images/"+digestA+"/findings/k1", nil)
	for _, want := range []string{"CVSS:3.1/AV:N", "apk add --upgrade", "Create exception", "https://example.com/a"} {
		if !strings.Contains(body, want) {
			t.Errorf("finding page lacks %q", want)
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
