package harbor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

const digest = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"

// specSchema returns a component schema of the corpus's Harbor spec.
func specSchema(t *testing.T, name string) *openapi3.Schema {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(corpus.Path(t, "schemas", "harbor-scanner-adapter-openapi-v1.2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas[name]
	if ref == nil {
		t.Fatalf("no schema %s", name)
	}
	return ref.Value
}

// validJSON checks v, as JSON, against a spec schema.
func validJSON(t *testing.T, schema *openapi3.Schema, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	json.Unmarshal(b, &doc)
	if err := schema.VisitJSON(doc, openapi3.MultiErrors()); err != nil {
		t.Errorf("does not match the spec: %v\n%s", err, b)
	}
}

func TestDecodeScanRequest(t *testing.T) {
	ok := `{"registry": {"url": "https://core.harbor.domain", "authorization": "Basic cm9ib3Q6czNjcmV0"},
		"artifact": {"repository": "library/mongo", "digest": "` + digest + `", "tag": "3.14-xenial", "mime_type": "application/vnd.docker.distribution.manifest.v2+json"},
		"enabled_capabilities": [{"type": "sbom", "produces_mime_types": ["application/vnd.security.sbom.report+json; version=1.0"],
			"parameters": {"sbom_media_types": ["application/spdx+json", "application/vnd.cyclonedx+json"]}}],
		"future_field": 1}`
	req, err := DecodeScanRequest(strings.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	ref, insecure, err := req.Ref()
	if err != nil || insecure || ref != "core.harbor.domain/library/mongo@"+digest {
		t.Errorf("Ref: %q %v %v", ref, insecure, err)
	}
	if req.Enabled(CapVulnerability) || !req.Enabled(CapSBOM) {
		t.Errorf("enabled capabilities: %+v", req.EnabledCapabilities)
	}
	raw := `{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "` + digest + `"},
		"enabled_capabilities": [{"type": "vulnerability", "produces_mime_types": ["` + MimeVulnReportRaw + `", "` + MimeVulnReport + `"]}]}`
	if _, err := DecodeScanRequest(strings.NewReader(raw)); err != nil {
		t.Errorf("raw report requested: %v", err)
	}
	req, _ = DecodeScanRequest(strings.NewReader(`{"registry": {"url": "http://harbor-core:8080/"}, "artifact": {"repository": "a/b/c", "digest": "` + digest + `"}}`))
	if ref, insecure, _ := req.Ref(); ref != "harbor-core:8080/a/b/c@"+digest || !insecure || !req.Enabled(CapVulnerability) {
		t.Errorf("plain HTTP: %q %v", ref, insecure)
	}

	req, _ = DecodeScanRequest(strings.NewReader(`{"registry": {"url": "http://Harbor-Core"}, "artifact": {"repository": "library/alpine", "digest": "` + digest + `"}}`))
	if ref, _, err := req.Ref(); ref != "harbor-core:80/library/alpine@"+digest {
		t.Errorf("bare host: %q %v", ref, err)
	}
	art := `"artifact": {"repository": "a", "digest": "` + digest + `"}`
	for _, c := range []struct {
		body string
		want int
	}{
		{``, 400},
		{`{`, 400},
		{`null x`, 400},
		{`{"registry": 1, ` + art + `}`, 400},
		{`{"registry": {"url": "http://x"}, ` + art + `} trailing`, 400},
		{`{"registry": {}, ` + art + `}`, 422},
		{`{"registry": {"url": "http://x/v2/"}, ` + art + `}`, 422},
		{`{"registry": {"url": "http://user:pw@x"}, ` + art + `}`, 422},
		{`{"registry": {"url": "unix:///var/run/docker.sock"}, ` + art + `}`, 422},
		{`{"registry": {"url": "http://x", "authorization": "Basic !!!"}, ` + art + `}`, 422},
		{`{"registry": {"url": "http://x", "authorization": "Basic ` + base64.StdEncoding.EncodeToString([]byte("nocolon")) + `"}, ` + art + `}`, 422},
		{`{"registry": {"url": "http://x", "authorization": "Bearer"}, ` + art + `}`, 422},
		{`{"registry": {"url": "http://x"}, "artifact": {"digest": "` + digest + `"}}`, 422},
		{`{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "sha256:abc"}}`, 422},
		{`{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "` + strings.ToUpper(digest) + `"}}`, 422},
		{`{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "tag": "` + strings.Repeat("t", 200) + `", "digest": "` + digest + `"}}`, 422},
		{`{"registry": {"url": "http://x"}, ` + art + `, "enabled_capabilities": [{"type": "sbom", "parameters": {"sbom_media_types": ["text/plain"]}}]}`, 422},
		{`{"registry": {"url": "http://x"}, ` + art + `, "enabled_capabilities": [{"type": "vulnerability", "produces_mime_types": ["application/vnd.security.vulnerability.report; version=1.0"]}]}`, 501},
		{`{"registry": {"url": "http://x"}, "artifact": {"repository": "a", "digest": "` + digest + `", "mime_type": "application/vnd.cncf.helm.config.v1+json"}}`, 501},
	} {
		_, err := DecodeScanRequest(strings.NewReader(c.body))
		var re *RequestError
		if !errors.As(err, &re) || re.Status != c.want {
			t.Errorf("%s: %v, want status %d", c.body, err, c.want)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	for _, c := range []struct {
		host    string
		allowed []string
		want    bool
	}{
		{"anything:5000", nil, true},
		{"harbor.example.com", []string{"harbor.example.com"}, true},
		{"harbor.example.com:8443", []string{"Harbor.Example.com"}, true},
		{"harbor.example.com:8443", []string{"harbor.example.com:443"}, false},
		{"harbor-core:80", []string{"harbor-core:80"}, true},
		{"169.254.169.254:80", []string{"harbor.example.com"}, false},
		{"[::1]:5000", []string{"::1"}, true},
		{"evilharbor.example.com", []string{"harbor.example.com"}, false},
	} {
		if got := HostAllowed(c.host, c.allowed); got != c.want {
			t.Errorf("HostAllowed(%q, %v) = %v", c.host, c.allowed, got)
		}
	}
}

func TestAuthenticator(t *testing.T) {
	a, err := Authenticator("Basic " + base64.StdEncoding.EncodeToString([]byte("robot$p+scanner:pa:ss")))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := a.Authorization()
	if cfg.Username != "robot$p+scanner" || cfg.Password != "pa:ss" {
		t.Errorf("basic: %+v", cfg)
	}
	a, _ = Authenticator("bearer tok.en")
	if cfg, _ := a.Authorization(); cfg.RegistryToken != "tok.en" {
		t.Errorf("bearer: %+v", cfg)
	}
	if a, _ := Authenticator(""); a != authn.Anonymous {
		t.Errorf("none: %v", a)
	}
}

func TestVulnerabilityReport(t *testing.T) {
	rep := reporttest.Report()
	art := Artifact{Repository: "library/app", Digest: digest, Tag: "1", MimeType: MimeOCIManifest}
	out := NewVulnerabilityReport(rep, art, Scanner{Name: "Vigil", Vendor: "Vigil", Version: "1.0"})
	validJSON(t, specSchema(t, "HarborVulnerabilityReport"), out)
	suppressed := 0
	for _, f := range rep.Vulnerabilities {
		if f.Suppressed != nil {
			suppressed++
		}
	}
	if suppressed == 0 || len(out.Vulnerabilities) != len(rep.Vulnerabilities)-suppressed {
		t.Errorf("%d items from %d findings (%d suppressed)", len(out.Vulnerabilities), len(rep.Vulnerabilities), suppressed)
	}
	if out.Severity != "Critical" || !out.GeneratedAt.Equal(rep.CreatedAt) {
		t.Errorf("severity %s, generated_at %v", out.Severity, out.GeneratedAt)
	}
	byID := map[string]VulnerabilityItem{}
	for _, it := range out.Vulnerabilities {
		byID[it.ID] = it
	}
	ssl := byID["CVE-2020-1967"]
	if ssl.Severity != "High" || ssl.Package != "libssl1.1" || ssl.FixVersion != "1.1.1g-r0" || ssl.PreferredCVSS == nil ||
		*ssl.PreferredCVSS.ScoreV3 != 7.5 || !strings.HasPrefix(ssl.PreferredCVSS.VectorV3, "CVSS:3.1/") || ssl.PreferredCVSS.ScoreV2 != nil {
		t.Errorf("CVE-2020-1967: %+v %+v", ssl, ssl.PreferredCVSS)
	}
	if ssl.Links[0] != "https://nvd.nist.gov/vuln/detail/CVE-2020-1967" || len(ssl.Links) != 2 {
		t.Errorf("links: %v", ssl.Links)
	}
	gostd := byID["GO-2021-0067"]
	if gostd.Severity != "Unknown" || gostd.FixVersion != "v1.15.5" || gostd.PreferredCVSS != nil || gostd.VendorAttributes["layer"] == nil {
		t.Errorf("GO-2021-0067: %+v", gostd)
	}
	empty := *rep
	empty.Vulnerabilities = nil
	none := NewVulnerabilityReport(&empty, art, Scanner{})
	if none.Severity != "Unknown" || none.Vulnerabilities == nil {
		t.Errorf("empty report: %+v", none)
	}
	validJSON(t, specSchema(t, "HarborVulnerabilityReport"), none)
}

func TestSbomReport(t *testing.T) {
	rep := reporttest.Report()
	for _, mt := range []string{SBOMCycloneDX, SBOMSPDX} {
		out, err := NewSbomReport(rep, Artifact{Digest: digest}, Scanner{Name: "Vigil"}, mt)
		if err != nil {
			t.Fatal(err)
		}
		validJSON(t, specSchema(t, "HarborSbomReport"), out)
		key := map[string]string{SBOMCycloneDX: `"bomFormat"`, SBOMSPDX: `"spdxVersion"`}[mt]
		if out.MediaType != mt || !bytes.Contains(out.SBOM, []byte(key)) {
			t.Errorf("%s: %s", mt, out.SBOM[:min(200, len(out.SBOM))])
		}
	}
	if _, err := NewSbomReport(rep, Artifact{}, Scanner{}, "text/plain"); err == nil {
		t.Error("unknown SBOM type accepted")
	}
}

func TestMetadata(t *testing.T) {
	built := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	m := NewMetadata(Scanner{Name: "Vigil", Vendor: "Vigil", Version: "v1.2.3"}, built)
	validJSON(t, specSchema(t, "ScannerAdapterMetadata"), m)
	if m.Properties["harbor.scanner-adapter/vulnerability-database-updated-at"] != "2026-12-06T18:00:00Z" {
		t.Errorf("properties: %v", m.Properties)
	}
	if _, ok := NewMetadata(Scanner{}, time.Time{}).Properties["harbor.scanner-adapter/vulnerability-database-updated-at"]; ok {
		t.Error("DB time without a DB")
	}
}

// FuzzDecodeScanRequest: any body is refused with a status or accepted as
// a request whose reference go-containerregistry parses and whose
// credentials are usable.
func FuzzDecodeScanRequest(f *testing.F) {
	f.Add(`{"registry": {"url": "https://core.harbor.domain", "authorization": "Basic cm9ib3Q6czNjcmV0"}, "artifact": {"repository": "library/mongo", "digest": "` + digest + `", "tag": "3.14"}}`)
	f.Add(`{"registry": {"url": "http://h:5000", "authorization": "Bearer x"}, "artifact": {"repository": "a/b", "digest": "` + digest + `"}, "enabled_capabilities": [{"type": "sbom", "parameters": {"sbom_media_types": ["application/spdx+json"]}}]}`)
	f.Add(`{"registry": {"url": "http://[::1]:5000"}, "artifact": {"repository": "a", "digest": "` + digest + `", "mime_type": "application/vnd.oci.image.manifest.v1+json"}}`)
	f.Add(`{"registry": null, "artifact": null, "enabled_capabilities": null}`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := DecodeScanRequest(strings.NewReader(body))
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || (re.Status != 400 && re.Status != 422 && re.Status != 501) || re.Msg == "" {
				t.Fatalf("error %v is not a RequestError with a spec status", err)
			}
			return
		}
		ref, insecure, err := req.Ref()
		if err != nil {
			t.Fatalf("valid request without a reference: %v", err)
		}
		var opts []name.Option
		if insecure {
			opts = append(opts, name.Insecure)
		}
		if _, err := name.NewDigest(ref, opts...); err != nil {
			t.Fatalf("reference %q does not parse: %v", ref, err)
		}
		if _, err := Authenticator(req.Registry.Authorization); err != nil {
			t.Fatalf("valid request with unusable credentials: %v", err)
		}
	})
}
