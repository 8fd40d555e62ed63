package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/harbor"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/scan"
	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/web"
)

// harborSpec is the Pluggable Scanner API v1.2 from the corpus; every
// response of the /harbor routes is validated against it.
type harborSpec struct {
	doc *openapi3.T
}

var registerDecoders sync.Once

func loadHarborSpec(t *testing.T) *harborSpec {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(corpus.Path(t, "schemas", "harbor-scanner-adapter-openapi-v1.2.yaml"))
	if err != nil {
		t.Fatalf("loading the Harbor scanner spec: %v", err)
	}
	registerDecoders.Do(func() {
		// This report type has no +json suffix: tell the validator it is JSON.
		openapi3filter.RegisterBodyDecoder("application/vnd.security.vulnerability.report", openapi3filter.JSONBodyDecoder)
		// The raw report's schema is a string: the body as text.
		openapi3filter.RegisterBodyDecoder(harbor.MimeVulnReportRaw, func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			return string(b), err
		})
	})
	return &harborSpec{doc: doc}
}

// validate checks a response (status, headers, body) against the spec's
// operation at specPath; a status the spec does not list is an error.
func (h *harborSpec) validate(t *testing.T, method, specPath string, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	item := h.doc.Paths.Find(specPath)
	if item == nil {
		t.Fatalf("spec has no path %s", specPath)
	}
	op := item.GetOperation(method)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: h.doc, Path: specPath, PathItem: item, Method: method, Operation: op},
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("%s %s: status %d does not match the Harbor spec: %v\n%s", method, req.URL.Path, status, err, trim(body))
	}
}

func trim(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// harborClient calls /harbor as Harbor does: no redirects followed.
type harborClient struct {
	t     *testing.T
	base  string
	token string
	spec  *harborSpec
	http  *http.Client
}

type harborResp struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request and validates the answer against specPath's
// operation (validate false for statuses the spec does not define: 401,
// 403, 413).
func (c *harborClient) call(method, path, specPath, accept, body string, validate bool) harborResp {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.scanner.adapter.scan.request+json; version=1.1")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if validate {
		c.spec.validate(c.t, method, specPath, req, resp.StatusCode, resp.Header, b)
	}
	return harborResp{resp.StatusCode, resp.Header, b}
}

func (c *harborClient) submit(req any, want int) string {
	c.t.Helper()
	b, _ := json.Marshal(req)
	r := c.call("POST", "/harbor/api/v1/scan", "/scan", harbor.MimeScanResponse, string(b), true)
	if r.status != want {
		c.t.Fatalf("POST /scan: %d, want %d: %s", r.status, want, r.body)
	}
	if want != 202 {
		return ""
	}
	var out harbor.ScanResponse
	if err := json.Unmarshal(r.body, &out); err != nil || out.ID == "" {
		c.t.Fatalf("scan response %s: %v", r.body, err)
	}
	return out.ID
}

// poll polls the report through 302 + Refresh-After (honoured, as Harbor
// does) until another status.
func (c *harborClient) poll(id, accept, query string) harborResp {
	c.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	path := "/harbor/api/v1/scan/" + id + "/report" + query
	for polls := 0; ; polls++ {
		r := c.call("GET", path, "/scan/{scan_request_id}/report", accept, "", true)
		if r.status != 302 {
			return r
		}
		secs := r.header.Get("Refresh-After")
		var n int
		if _, err := fmt.Sscanf(secs, "%d", &n); err != nil || n < 1 || n > 120 {
			c.t.Fatalf("302 with Refresh-After %q", secs)
		}
		if loc := r.header.Get("Location"); loc != path {
			c.t.Errorf("302 Location %q, want %q", loc, path)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("report %s still not ready after %d polls", id, polls)
		}
		time.Sleep(time.Duration(n) * time.Second)
	}
}

// startAuthRegistry runs a real Distribution registry behind Basic auth
// (user robot$harbor, password) that also takes a Bearer token, as a
// registry behind Harbor's token service does once a token is issued.
func startAuthRegistry(t *testing.T, user, pass, token string) (host string, gets *atomic.Int64) {
	t.Helper()
	cfg := &configuration.Configuration{Storage: configuration.Storage{"inmemory": configuration.Parameters{}}}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	app := handlers.NewApp(context.Background(), cfg)
	t.Cleanup(func() { app.Shutdown() })
	gets = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		authed := (ok && u == user && p == pass) || r.Header.Get("Authorization") == "Bearer "+token
		if !authed {
			w.Header().Set("WWW-Authenticate", `Basic realm="test-registry"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
			gets.Add(1)
		}
		app.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), gets
}

type harborReport struct {
	GeneratedAt     time.Time                  `json:"generated_at"`
	Artifact        harbor.Artifact            `json:"artifact"`
	Scanner         harbor.Scanner             `json:"scanner"`
	Severity        string                     `json:"severity"`
	Vulnerabilities []harbor.VulnerabilityItem `json:"vulnerabilities"`
}

func TestHarborScannerAPI(t *testing.T) {
	spec := loadHarborSpec(t)
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		e := newEnv(t, backend, feedMirror(t, "v3.10"))
		const user, pass, regToken = "robot$harbor+scanner", "s3cret-robot", "registry-jwt"
		host, manifestGets := startAuthRegistry(t, user, pass, regToken)
		img := alpineImage(t, true)
		ref, _ := name.ParseReference(host+"/library/alpine:3.10", name.Insecure)
		if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digest := d.String()
		mt, _ := img.MediaType()

		// What `vigil image` finds for the same image, with the same DB.
		var want *result.Report
		err := e.db.With(func(m *match.Matcher, info *result.DBInfo) error {
			var err error
			want, err = scan.Image(ctx, host+"/library/alpine@"+digest, scan.Options{Matcher: m, DB: info,
				Image: image.Options{Username: user, Password: pass, Insecure: true, TempDir: t.TempDir()}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Vulnerabilities) == 0 {
			t.Fatal("vigil image finds no vulnerabilities in the vulnerable corpus image: nothing to compare")
		}

		ingest, _ := e.st.CreateToken(ctx, "acme", store.ScopeIngest)
		c := &harborClient{t: t, base: e.srv.URL, token: ingest, spec: spec,
			http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

		// Metadata: capabilities, version, DB build time.
		r := c.call("GET", "/harbor/api/v1/metadata", "/metadata", harbor.MimeMetadata10, "", true)
		if r.status != 200 {
			t.Fatalf("metadata: %d %s", r.status, r.body)
		}
		var meta harbor.Metadata
		json.Unmarshal(r.body, &meta)
		if meta.Scanner.Name != "Vigil" || meta.Scanner.Version == "" || len(meta.Capabilities) != 2 {
			t.Errorf("metadata: %+v", meta)
		}
		if got := meta.Properties["harbor.scanner-adapter/vulnerability-database-updated-at"]; got != e.db.Info().Built.UTC().Format(time.RFC3339) {
			t.Errorf("DB updated-at %q, DB built %v", got, e.db.Info().Built)
		}
		for _, cp := range meta.Capabilities {
			joined := strings.Join(cp.ConsumesMimeTypes, ",")
			if !strings.Contains(joined, harbor.MimeOCIManifest) || !strings.Contains(joined, harbor.MimeDockerManifest) {
				t.Errorf("capability %s consumes %v", cp.Type, cp.ConsumesMimeTypes)
			}
			if cp.Type == harbor.CapVulnerability && !slices.Contains(cp.ProducesMimeTypes, harbor.MimeVulnReportRaw) {
				t.Errorf("vulnerability capability does not produce the raw report: %v", cp.ProducesMimeTypes)
			}
		}

		// A scan as Harbor sends it: robot account Basic credentials.
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		scanReq := map[string]any{
			"registry": map[string]any{"url": "http://" + host, "authorization": basic},
			"artifact": map[string]any{"repository": "library/alpine", "digest": digest, "tag": "3.10", "mime_type": string(mt)},
			"enabled_capabilities": []any{
				map[string]any{"type": "vulnerability", "produces_mime_types": []string{harbor.MimeVulnReport, harbor.MimeVulnReportHarbor, harbor.MimeVulnReportRaw}},
				map[string]any{"type": "sbom", "produces_mime_types": []string{harbor.MimeSBOMReport}, "parameters": map[string]any{"sbom_media_types": []string{harbor.SBOMCycloneDX}}},
			},
		}
		id := c.submit(scanReq, 202)
		r = c.poll(id, harbor.MimeVulnReport, "")
		if r.status != 200 || r.header.Get("Content-Type") != harbor.MimeVulnReport {
			t.Fatalf("report: %d %s: %s", r.status, r.header.Get("Content-Type"), trim(r.body))
		}
		var rep harborReport
		if err := json.Unmarshal(r.body, &rep); err != nil {
			t.Fatal(err)
		}
		tenant, err := e.st.Authenticate(ctx, ingest)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := e.st.HarborScanJob(ctx, tenant.TenantID, id); err != nil || h.Authorization != "" || h.Status != store.HarborDone {
			t.Errorf("the registry authorization outlived the scan: %q %s %v", h.Authorization, h.Status, err)
		}
		if _, err := e.st.HarborScanJob(ctx, tenant.TenantID+1, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's job read the scan request: %v", err)
		}
		if rep.Artifact.Digest != digest || rep.Artifact.Repository != "library/alpine" || rep.Scanner.Name != "Vigil" || rep.GeneratedAt.IsZero() {
			t.Errorf("report header: %+v %+v", rep.Artifact, rep.Scanner)
		}
		key := func(id, pkg, ver string) string { return id + " " + pkg + "@" + ver }
		var wantKeys, gotKeys []string
		maxSev := "Unknown"
		rank := map[string]int{"Unknown": 0, "Negligible": 1, "Low": 2, "Medium": 3, "High": 4, "Critical": 5}
		for _, f := range want.Vulnerabilities {
			wantKeys = append(wantKeys, key(f.ID, f.Package.Name, f.Package.Version))
		}
		for _, v := range rep.Vulnerabilities {
			gotKeys = append(gotKeys, key(v.ID, v.Package, v.Version))
			if rank[v.Severity] > rank[maxSev] {
				maxSev = v.Severity
			}
			if len(v.Links) == 0 || !strings.HasPrefix(v.Links[0], "https://") {
				t.Errorf("%s: links %v", v.ID, v.Links)
			}
		}
		sort.Strings(wantKeys)
		sort.Strings(gotKeys)
		if strings.Join(wantKeys, "\n") != strings.Join(gotKeys, "\n") {
			t.Errorf("Harbor report has %d findings, vigil image %d:\n got %v\nwant %v", len(gotKeys), len(wantKeys), gotKeys, wantKeys)
		}
		if rep.Severity != maxSev {
			t.Errorf("report severity %s, highest finding %s", rep.Severity, maxSev)
		}
		fixed := 0
		for _, v := range rep.Vulnerabilities {
			if v.FixVersion != "" {
				fixed++
			}
		}
		if fixed == 0 {
			t.Errorf("no finding has a fix_version (Alpine secdb always names one)")
		}

		// The raw report is Vigil's own JSON report of the artifact: the
		// findings `vigil image` has.
		r = c.poll(id, harbor.MimeVulnReportRaw, "")
		var raw result.Report
		if r.status != 200 || r.header.Get("Content-Type") != harbor.MimeVulnReportRaw || json.Unmarshal(r.body, &raw) != nil {
			t.Fatalf("raw report: %d %s: %s", r.status, r.header.Get("Content-Type"), trim(r.body))
		}
		var rawKeys []string
		for _, f := range raw.Vulnerabilities {
			rawKeys = append(rawKeys, key(f.ID, f.Package.Name, f.Package.Version))
		}
		sort.Strings(rawKeys)
		if strings.Join(wantKeys, "\n") != strings.Join(rawKeys, "\n") || raw.Artifact.Digest != digest || raw.DB == nil {
			t.Errorf("raw report: %d findings (want %d), artifact %+v", len(rawKeys), len(wantKeys), raw.Artifact)
		}

		// The scanned image is one of the tenant's registry images, as a
		// webhook push would make it: registry (Harbor's host), repository,
		// tag, status, findings.
		var regs struct {
			Items []store.Registry `json:"items"`
		}
		e.do("GET", "/api/v1/registries", e.admin, nil, 200, &regs)
		var hreg store.Registry
		for _, rg := range regs.Items {
			if rg.Host == host {
				hreg = rg
			}
		}
		if hreg.ID == "" || hreg.Images != 1 || hreg.Unhealthy != 1 || hreg.HasPassword {
			t.Fatalf("no registry for Harbor's host %s with the image: %+v", host, regs.Items)
		}
		var repos struct {
			Items []store.Repository `json:"items"`
		}
		e.do("GET", "/api/v1/repositories?registry_id="+hreg.ID, e.admin, nil, 200, &repos)
		if len(repos.Items) != 1 || repos.Items[0].Name != "library/alpine" {
			t.Errorf("repositories of the Harbor registry: %+v", repos.Items)
		}
		var imgs imagePage
		e.do("GET", "/api/v1/images?registry_id="+hreg.ID+"&repository=library/alpine", e.admin, nil, 200, &imgs)
		if len(imgs.Items) != 1 {
			t.Fatalf("images of library/alpine in the Harbor registry: %+v", imgs.Items)
		}
		im := imgs.Items[0]
		if im.Digest != digest || im.Status != store.StatusScanned || len(im.Tags) != 1 || im.Tags[0] != "3.10" || im.ScannedAt == nil || im.LastEvaluatedAt == nil {
			t.Errorf("Harbor-scanned image: %+v", im)
		}
		var fs struct {
			Items []store.Finding `json:"items"`
		}
		e.do("GET", "/api/v1/images/"+digest+"/findings?limit=500", e.admin, nil, 200, &fs)
		var imKeys []string
		for _, f := range fs.Items {
			imKeys = append(imKeys, key(f.ID, f.Package.Name, f.Package.Version))
		}
		sort.Strings(imKeys)
		if strings.Join(wantKeys, "\n") != strings.Join(imKeys, "\n") {
			t.Errorf("the image's findings (%d) are not the scan's (%d)", len(imKeys), len(wantKeys))
		}
		// Re-evaluation finds it by its packages and re-matches it from the
		// stored layers, without the registry (Harbor's credentials are gone).
		ids, err := e.st.ImagesWithPackages(ctx, [][2]string{{"os", "busybox"}})
		if err != nil || !slices.Contains(ids, im.ID) {
			t.Errorf("re-evaluation does not find the Harbor-scanned image by its packages: %v %v", ids, err)
		}
		gets := manifestGets.Load()
		if n, err := e.q.Reevaluate(ctx, []int64{im.ID}, "test"); n != 1 || err != nil {
			t.Errorf("re-evaluating the Harbor-scanned image: %d evaluated, %v", n, err)
		}
		if manifestGets.Load() != gets {
			t.Errorf("re-evaluation pulled from the registry")
		}
		// And the web UI shows it: registry → repository → image.
		ui := uiClient(t, e)
		finding := fs.Items[0].ID
		for _, pg := range []struct{ path, want string }{
			{"/registries", hreg.Name},
			{"/registries/" + hreg.ID, "library/alpine"},
			{"/registries/" + hreg.ID + "/repositories/library/alpine", digest[:19]},
			{"/images/" + digest, finding},
		} {
			if body := ui(pg.path); !strings.Contains(body, pg.want) {
				t.Errorf("web UI %s does not show %q", pg.path, pg.want)
			}
		}

		// The same scan in Harbor's 1.0 report type, no Accept (default),
		// and the SBOM in both formats.
		r = c.poll(id, harbor.MimeVulnReportHarbor, "")
		var rep10 harborReport
		json.Unmarshal(r.body, &rep10)
		if r.status != 200 || len(rep10.Vulnerabilities) != len(rep.Vulnerabilities) {
			t.Errorf("1.0 report: %d, %d findings", r.status, len(rep10.Vulnerabilities))
		}
		r = c.poll(id, harbor.MimeSBOMReport, "?sbom_media_type="+url.QueryEscape(harbor.SBOMCycloneDX))
		var sb struct {
			MediaType string `json:"media_type"`
			SBOM      struct {
				BOMFormat  string            `json:"bomFormat"`
				Components []json.RawMessage `json:"components"`
			} `json:"sbom"`
		}
		json.Unmarshal(r.body, &sb)
		if r.status != 200 || sb.MediaType != harbor.SBOMCycloneDX || sb.SBOM.BOMFormat != "CycloneDX" || len(sb.SBOM.Components) < len(want.Packages) {
			t.Errorf("CycloneDX SBOM: %d %s %s %d components for %d packages", r.status, sb.MediaType, sb.SBOM.BOMFormat, len(sb.SBOM.Components), len(want.Packages))
		}
		r = c.poll(id, harbor.MimeSBOMReport, "?sbom_media_type="+url.QueryEscape(harbor.SBOMSPDX))
		if r.status != 200 || !bytes.Contains(r.body, []byte(`"spdxVersion"`)) {
			t.Errorf("SPDX SBOM: %d %s", r.status, trim(r.body))
		}

		// Bearer passthrough: a registry token instead of robot credentials.
		// The layers are in the layer store now: only the manifest is read.
		before := manifestGets.Load()
		scanReq["registry"] = map[string]any{"url": "http://" + host + "/", "authorization": "Bearer " + regToken}
		id2 := c.submit(scanReq, 202)
		r = c.poll(id2, harbor.MimeVulnReportHarbor, "")
		var rep2 harborReport
		json.Unmarshal(r.body, &rep2)
		if r.status != 200 || len(rep2.Vulnerabilities) != len(rep.Vulnerabilities) {
			t.Errorf("bearer scan: %d, %d findings", r.status, len(rep2.Vulnerabilities))
		}
		if manifestGets.Load() == before {
			t.Errorf("the bearer scan did not pull from the registry")
		}

		// Bad input, answered as the spec says.
		specErr := func(r harborResp) string {
			var er harbor.ErrorResponse
			if err := json.Unmarshal(r.body, &er); err != nil || er.Error.Message == "" {
				t.Errorf("not an ErrorResponse: %s", r.body)
			}
			return er.Error.Message
		}
		for _, bad := range []struct {
			body string
			want int
		}{
			{`{"registry": {"url": "http://` + host + `"}, "artifact": `, 400},
			{`{"registry": "http://x", "artifact": {}}`, 400},
			{`{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "sha256:` + strings.Repeat("a", 64) + `"}} {}`, 400},
			{`[]`, 400},
			{`{"registry": {"url": "http://` + host + `"}, "artifact": {"repository": "library/alpine"}}`, 422},
			{`{"registry": {"url": "ftp://x"}, "artifact": {"repository": "a", "digest": "` + digest + `"}}`, 422},
			{`{"registry": {"url": "http://x", "authorization": "Digest abc"}, "artifact": {"repository": "a", "digest": "` + digest + `"}}`, 422},
			{`{"registry": {"url": "http://x"}, "artifact": {"repository": "UPPER/Case", "digest": "` + digest + `"}}`, 422},
			{`{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "` + digest + `"}, "enabled_capabilities": [{"type": "malware"}]}`, 422},
			{`{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "` + digest + `", "mime_type": "application/vnd.oci.image.index.v1+json"}}`, 501},
		} {
			r := c.call("POST", "/harbor/api/v1/scan", "/scan", "", bad.body, true)
			if r.status != bad.want {
				t.Errorf("POST /scan %s: %d, want %d: %s", bad.body, r.status, bad.want, r.body)
			}
			specErr(r)
		}
		big := `{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "` + digest + `", "tag": "` + strings.Repeat("t", 2<<20) + `"}}`
		if r := c.call("POST", "/harbor/api/v1/scan", "", "", big, false); r.status != 413 || specErr(r) == "" {
			t.Errorf("2 MiB scan request: %d", r.status)
		}
		r = c.call("GET", "/harbor/api/v1/scan/"+id+"/report", "/scan/{scan_request_id}/report", "application/pdf", "", true)
		if r.status != 501 {
			t.Errorf("unsupported Accept: %d %s", r.status, r.body)
		}
		specErr(r)
		r = c.call("GET", "/harbor/api/v1/scan/"+id+"/report", "/scan/{scan_request_id}/report", harbor.MimeSBOMReport, "", true)
		if r.status != 400 {
			t.Errorf("SBOM without sbom_media_type: %d %s", r.status, r.body)
		}
		r = c.call("GET", "/harbor/api/v1/scan/hs_unknown/report", "/scan/{scan_request_id}/report", harbor.MimeVulnReport, "", true)
		if r.status != 404 {
			t.Errorf("unknown id: %d %s", r.status, r.body)
		}

		// Tokens: none 401, read scope 403, another tenant's 404.
		c2 := *c
		c2.token = ""
		if r := c2.call("GET", "/harbor/api/v1/metadata", "", "", "", false); r.status != 401 || specErr(r) == "" {
			t.Errorf("no token: %d", r.status)
		}
		c2.token, _ = e.st.CreateToken(ctx, "acme", store.ScopeRead)
		if r := c2.call("POST", "/harbor/api/v1/scan", "", "", `{}`, false); r.status != 403 {
			t.Errorf("read token: %d", r.status)
		}
		c2.token, _ = e.st.CreateToken(ctx, "other", store.ScopeIngest)
		if r := c2.call("GET", "/harbor/api/v1/scan/"+id+"/report", "", harbor.MimeVulnReport, "", false); r.status != 404 {
			t.Errorf("other tenant's report: %d", r.status)
		}
		admin := *c
		admin.token = e.admin
		if r := admin.call("GET", "/harbor/api/v1/scan/"+id+"/report", "/scan/{scan_request_id}/report", harbor.MimeVulnReport, "", true); r.status != 200 {
			t.Errorf("admin token: %d", r.status)
		}

		// Wrong robot credentials and a registry that is down: the scan
		// fails after its retries and the report is the spec's 500 error.
		scanReq["registry"] = map[string]any{"url": "http://" + host, "authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":wrong"))}
		idWrong := c.submit(scanReq, 202)
		down := httptest.NewServer(http.NotFoundHandler())
		downURL := down.URL
		down.Close()
		scanReq["registry"] = map[string]any{"url": downURL}
		idDown := c.submit(scanReq, 202)
		for _, fid := range []string{idWrong, idDown} {
			r := c.poll(fid, harbor.MimeVulnReport, "")
			if r.status != 500 {
				t.Errorf("failed scan %s: %d %s", fid, r.status, r.body)
				continue
			}
			if msg := specErr(r); !strings.Contains(msg, "scan failed") {
				t.Errorf("failed scan message: %q", msg)
			}
		}
		// The service still works.
		e.do("GET", "/readyz", "", nil, 200, nil)
	})
}

// On a fresh install the first DB is still being built: a scan request
// waits for it (302s, no attempts spent) and completes once it is there.
func TestHarborScanWaitsForFirstDB(t *testing.T) {
	spec := loadHarborSpec(t)
	ctx := context.Background()
	st := openStore(t, "sqlite")
	dataDir := t.TempDir()
	db := &jobs.CurrentDB{Config: config.Config{DBPath: filepath.Join(dataDir, "db", "vigil.db"), CacheDir: dataDir, Mirror: feedMirror(t, "v3.10"),
		Feeds: config.Feeds{Alpine: config.AlpineFeed{Branches: []string{"v3.10"}}}}}
	t.Cleanup(func() { db.Close() })
	q, err := jobs.New(ctx, jobs.Deps{Store: st, DB: db, TempDir: t.TempDir()},
		jobs.Options{Work: true, Concurrency: 2, PollInterval: 50 * time.Millisecond, RetryBase: 100 * time.Millisecond, ScanAttempts: 2, Daily: -1, Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(c)
	})
	host := imagetest.Registry(t)
	// Only this registry may be named (server.harbor_registries).
	srv := httptest.NewServer(server.New(server.Options{Store: st, Queue: q, DB: db, HarborRegistries: []string{strings.Split(host, ":")[0]}}))
	t.Cleanup(srv.Close)
	img := alpineImage(t, true)
	imagetest.Push(t, img, host+"/library/alpine:3.10")
	d, _ := img.Digest()
	token, _ := st.CreateToken(ctx, "acme", store.ScopeIngest)
	c := &harborClient{t: t, base: srv.URL, token: token, spec: spec,
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	r := c.call("GET", "/harbor/api/v1/metadata", "/metadata", "", "", true)
	if strings.Contains(string(r.body), "vulnerability-database-updated-at") {
		t.Errorf("metadata names a DB time without a DB: %s", r.body)
	}
	c.submit(map[string]any{"registry": map[string]any{"url": "http://169.254.169.254"},
		"artifact": map[string]any{"repository": "library/alpine", "digest": d.String()}}, 422)
	id := c.submit(map[string]any{"registry": map[string]any{"url": "http://" + host},
		"artifact": map[string]any{"repository": "library/alpine", "digest": d.String()}}, 202)
	// Longer than the job's retries would take (2 attempts, 100 ms backoff).
	time.Sleep(3 * time.Second)
	r = c.call("GET", "/harbor/api/v1/scan/"+id+"/report", "/scan/{scan_request_id}/report", "", "", true)
	if r.status != 302 {
		t.Fatalf("before the first DB: %d %s", r.status, r.body)
	}
	if err := q.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	r = c.poll(id, "", "")
	var rep harborReport
	json.Unmarshal(r.body, &rep)
	if r.status != 200 || len(rep.Vulnerabilities) == 0 {
		t.Errorf("after the first DB: %d, %d findings", r.status, len(rep.Vulnerabilities))
	}
}

// uiClient signs in to the web UI over the env's store with its admin
// token and returns a GET that fails on a status other than 200.
func uiClient(t *testing.T, e *env) func(path string) string {
	t.Helper()
	h, err := web.New(web.NewStoreBackend(e.st, e.q, e.db, nil), web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(srv.URL+"/signin", url.Values{"token": {e.admin}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return func(path string) string {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Request.URL.Path != path {
			t.Fatalf("web UI %s: %d at %s", path, resp.StatusCode, resp.Request.URL.Path)
		}
		return string(b)
	}
}
