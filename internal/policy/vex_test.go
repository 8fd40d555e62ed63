package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

func TestOpenVEX(t *testing.T) {
	p := mustLoad(t, LoadVEX, "app.openvex.json")
	r := reporttest.Report()
	if w := p.Apply(r, testNow); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	doc := filepath.Join("testdata", "app.openvex.json")

	// Image by pkg:oci digest, package by subcomponent purl (qualifier
	// subset, distro qualifier absent from the VEX).
	s := finding(t, r, "CVE-2019-5482").Suppressed
	if rule(s) != "vex "+doc+"#0" || s.Status != "not_affected" || s.Justification != "vulnerable_code_not_present" || s.Reason != "curl is built without TFTP" {
		t.Errorf("CVE-2019-5482: %+v", s)
	}
	// Two statements: under_investigation (05-02) then not_affected (05-10)
	// naming the source package openssl of libssl1.1: the later wins.
	f := finding(t, r, "CVE-2020-1967")
	if rule(f.Suppressed) != "vex "+doc+"#2" || len(f.Annotations) != 0 {
		t.Errorf("CVE-2020-1967: %+v %q", f.Suppressed, f.Annotations)
	}
	// affected: annotation with the action statement, matched by alias and
	// a product that is the package itself.
	f = finding(t, r, "CVE-2022-41723")
	if f.Suppressed != nil || len(f.Annotations) != 1 || f.Annotations[0] != "VEX affected ("+doc+"#3): action: upgrade golang.org/x/net to v0.7.0" {
		t.Errorf("CVE-2022-41723: %+v %q", f.Suppressed, f.Annotations)
	}
	// A statement for another image digest does not apply.
	if s := finding(t, r, "CVE-2019-11236").Suppressed; s != nil {
		t.Errorf("CVE-2019-11236 suppressed by another image's VEX: %+v", s)
	}
}

func TestOpenVEXUnderInvestigation(t *testing.T) {
	doc := `{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2024-01-01T00:00:00Z",
	  "statements": [{"vulnerability": "CVE-2020-1967", "products": ["pkg:apk/alpine/libssl1.1@1.1.1d-r2"],
	    "status": "under_investigation", "status_notes": "triage ticket SEC-12"}]}`
	stmts, err := parseVEX("v.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r := reporttest.Report()
	(&Policy{vex: stmts}).Apply(r, testNow)
	f := finding(t, r, "CVE-2020-1967")
	if f.Suppressed != nil || len(f.Annotations) != 1 || f.Annotations[0] != "VEX under_investigation (v.json#0): triage ticket SEC-12" {
		t.Errorf("%+v %q", f.Suppressed, f.Annotations)
	}
}

func TestVEXProductMatching(t *testing.T) {
	const digest = "sha256:e7d92cdc71feacf90708cb59182d0df1b911f8ae022d29e8e95d75ca6a99776a"
	tests := []struct {
		name, products string
		want           bool
	}{
		{"image reference, all packages", `["registry.example.com/team/app:1.4.2"]`, true},
		{"image other tag", `["registry.example.com/team/app:2.0"]`, false},
		{"image by digest reference", `["registry.example.com/team/app@` + digest + `"]`, true},
		{"bare digest", `["` + digest + `"]`, true},
		{"hash", `[{"@id": "x", "hashes": {"sha-256": "` + strings.TrimPrefix(digest, "sha256:") + `"}}]`, true},
		{"oci purl by repository", `["pkg:oci/app?repository_url=registry.example.com/team/app"]`, true},
		{"oci purl by repository and tag", `["pkg:oci/app?repository_url=registry.example.com/team/app&tag=1.4.2"]`, true},
		{"oci purl other tag", `["pkg:oci/app?repository_url=registry.example.com/team/app&tag=9"]`, false},
		{"oci purl name only", `["pkg:oci/app"]`, true},
		{"oci purl other name", `["pkg:oci/web"]`, false},
		{"docker purl", `["pkg:docker/team/app@1.4.2?repository_url=registry.example.com"]`, true},
		{"identifiers purl", `[{"@id": "urn:example:app", "identifiers": {"purl": "pkg:oci/app"}}]`, true},
		{"package product", `["pkg:apk/alpine/libssl1.1"]`, true},
		{"package product version", `["pkg:apk/alpine/libssl1.1@1.1.1d-r2"]`, true},
		{"package product other version", `["pkg:apk/alpine/libssl1.1@1.1.1g-r0"]`, false},
		{"package product other arch", `["pkg:apk/alpine/libssl1.1?arch=aarch64"]`, false},
		{"package product source name", `["pkg:apk/alpine/openssl@1.1.1d-r2"]`, true},
		{"other ecosystem", `["pkg:deb/debian/libssl1.1"]`, false},
		{"subcomponent of image", `[{"@id": "pkg:oci/app", "subcomponents": ["pkg:apk/alpine/libssl1.1"]}]`, true},
		{"other subcomponent of image", `[{"@id": "pkg:oci/app", "subcomponents": ["pkg:apk/alpine/curl"]}]`, false},
		{"subcomponent of a present package", `[{"@id": "pkg:apk/alpine/curl", "subcomponents": ["pkg:apk/alpine/libssl1.1"]}]`, true},
		{"subcomponent of an absent package", `[{"@id": "pkg:apk/alpine/nginx", "subcomponents": ["pkg:apk/alpine/libssl1.1"]}]`, false},
		{"unparseable id", `["not a reference!"]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-2020-1967"},
			  "products": ` + tc.products + `, "status": "fixed"}]}`
			stmts, err := parseVEX("v.json", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			r := reporttest.Report()
			(&Policy{vex: stmts}).Apply(r, testNow)
			if got := finding(t, r, "CVE-2020-1967").Suppressed != nil; got != tc.want {
				t.Errorf("suppressed=%v, want %v", got, tc.want)
			}
		})
	}
}

func TestVEXTimestampPrecedence(t *testing.T) {
	stmt := func(status, ts string) string {
		s := `{"vulnerability": {"name": "CVE-2019-5482"}, "products": ["pkg:apk/alpine/curl"], "status": "` + status + `"`
		if ts != "" {
			s += `, "timestamp": "` + ts + `"`
		}
		return s + "}"
	}
	tests := []struct {
		name  string
		stmts []string
		want  string // status of the deciding statement
	}{
		{"later not_affected wins", []string{stmt("affected", "2024-01-01T00:00:00Z"), stmt("not_affected", "2024-02-01T00:00:00Z")}, "not_affected"},
		{"later affected wins", []string{stmt("not_affected", "2024-02-01T00:00:00Z"), stmt("affected", "2024-03-01T00:00:00Z")}, "affected"},
		{"order does not matter", []string{stmt("affected", "2024-03-01T00:00:00Z"), stmt("not_affected", "2024-02-01T00:00:00Z")}, "affected"},
		{"inherits document time", []string{stmt("fixed", ""), stmt("affected", "2023-12-31T00:00:00Z")}, "fixed"},
		{"tie: last wins", []string{stmt("affected", ""), stmt("not_affected", "")}, "not_affected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2024-01-15T00:00:00Z", "statements": [` + strings.Join(tc.stmts, ",") + `]}`
			stmts, err := parseVEX("v.json", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			r := reporttest.Report()
			(&Policy{vex: stmts}).Apply(r, testNow)
			f := finding(t, r, "CVE-2019-5482")
			got := ""
			if f.Suppressed != nil {
				got = f.Suppressed.Status
			} else if len(f.Annotations) == 1 {
				got = strings.Fields(f.Annotations[0])[1]
			}
			if got != tc.want {
				t.Errorf("decided by %q (%+v %q), want %q", got, f.Suppressed, f.Annotations, tc.want)
			}
		})
	}
}

func TestCycloneDXVEX(t *testing.T) {
	p := mustLoad(t, LoadVEX, "app.cdx.json")
	r := reporttest.Report()
	p.Apply(r, testNow)
	doc := filepath.Join("testdata", "app.cdx.json")
	s := finding(t, r, "CVE-2019-11236").Suppressed
	if rule(s) != "vex "+doc+"#0" || s.Status != "false_positive" || !strings.HasPrefix(s.Reason, "CRLF injection needs") {
		t.Errorf("CVE-2019-11236 (bom-ref): %+v", s)
	}
	f := finding(t, r, "CVE-2022-41723")
	if f.Suppressed != nil || len(f.Annotations) != 1 || f.Annotations[0] != "VEX in_triage ("+doc+"#1): reviewing HTTP/2 exposure; action: update" {
		t.Errorf("CVE-2022-41723 (BOM-Link, alias): %+v %q", f.Suppressed, f.Annotations)
	}
	// Version ranges are not evaluated: the statement matches nothing.
	if s := finding(t, r, "GO-2021-0067").Suppressed; s != nil {
		t.Errorf("GO-2021-0067 suppressed through a vers range: %+v", s)
	}

	// The document is about registry.example.com/team/app: another image
	// is not affected by it.
	r = reporttest.Report()
	r.Artifact.Name, r.Artifact.Digest, r.Artifact.ImageID = "registry.example.com/team/web:1", "", ""
	p.Apply(r, testNow)
	if s := finding(t, r, "CVE-2019-11236").Suppressed; s != nil {
		t.Errorf("applied to another image: %+v", s)
	}
}

func TestCycloneDXVersions(t *testing.T) {
	for _, tc := range []struct {
		versions string
		want     bool
	}{
		{`[{"version": "1.24.1", "status": "unaffected"}]`, true},
		{`[{"version": "1.24.2"}]`, false},
		{`[{"range": "vers:pypi/<1.24.3"}]`, false},
	} {
		doc := `{"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": [{"id": "CVE-2019-11236",
		  "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
		  "affects": [{"ref": "pkg:pypi/urllib3", "versions": ` + tc.versions + `}]}]}`
		stmts, err := parseVEX("c.json", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		r := reporttest.Report()
		(&Policy{vex: stmts}).Apply(r, testNow)
		if got := finding(t, r, "CVE-2019-11236").Suppressed != nil; got != tc.want {
			t.Errorf("versions %s: suppressed=%v, want %v", tc.versions, got, tc.want)
		}
	}
}

func TestVEXErrors(t *testing.T) {
	const ov = `{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [`
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "v.json:1:1: unexpected end of JSON input"},
		{"syntax", "{\n  \"statements\": [,]\n}", "v.json:2:18: invalid character ','"},
		{"not object", "[1]", "v.json:1:1: got JSON array, want an object"},
		{"unknown format", `{"foo": 1}`, "v.json: not a VEX document"},
		{"csaf", `{"document": {}, "vulnerabilities": []}`, "v.json: CSAF documents are not supported"},
		{"statements type", `{"@context": "https://openvex.dev/ns", "statements": {}}`, "v.json:1:54: statements: got JSON object, want an array"},
		{"no vulnerability", ov + `{"products": ["x"], "status": "fixed"}]}`, "v.json: statement 0: vulnerability has no name or @id"},
		{"bad status", ov + `{"vulnerability": "CVE-1", "products": ["x"], "status": "wontfix"}]}`, `v.json: statement 0 (CVE-1): invalid status "wontfix"`},
		{"no products", ov + `{"vulnerability": "CVE-1", "status": "fixed"}]}`, "v.json: statement 0 (CVE-1): no products"},
		{"empty product", ov + `{"vulnerability": "CVE-1", "products": [{}], "status": "fixed"}]}`, "v.json: statement 0 (CVE-1): a product has no @id"},
		{"bad timestamp", ov + `{"vulnerability": "CVE-1", "products": ["x"], "status": "fixed", "timestamp": "yesterday"}]}`, `v.json: statement 0 (CVE-1): invalid timestamp "yesterday"`},
		{"bad doc timestamp", `{"@context": "https://openvex.dev/ns", "timestamp": 5, "statements": []}`, "v.json:1:53: timestamp: got JSON number, want a string"},
		{"cdx old spec", `{"bomFormat": "CycloneDX", "specVersion": "1.3"}`, "v.json: CycloneDX 1.3 has no VEX"},
		{"cdx bad spec", `{"bomFormat": "CycloneDX", "specVersion": "9"}`, "v.json:"},
		{"cdx bad state", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [{"id": "CVE-1", "analysis": {"state": "fine"}, "affects": [{"ref": "pkg:npm/a"}]}]}`, `v.json: vulnerabilities[0] (CVE-1): invalid analysis.state "fine"`},
		{"cdx no affects", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [{"id": "CVE-1", "analysis": {"state": "resolved"}}]}`, "v.json: vulnerabilities[0] (CVE-1): analysis without affects"},
		{"cdx no id", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [{"analysis": {"state": "resolved"}, "affects": [{"ref": "x"}]}]}`, "v.json: vulnerabilities[0]: no id"},
		{"cdx bad time", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"timestamp": "May 1"}}`, `v.json: metadata.timestamp: invalid timestamp "May 1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseVEX("v.json", []byte(tc.doc))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v\nwant prefix %q", err, tc.want)
			}
		})
	}
}

// TestOpenVEXLegacy reads the v0.0.x spelling: strings for vulnerability
// and products, statement-level subcomponents.
func TestOpenVEXLegacy(t *testing.T) {
	doc := `{"@context": "https://openvex.dev/ns", "@id": "x", "author": "a", "role": "r", "timestamp": "2023-01-08T18:02:03.647787998-06:00", "version": "1",
	  "statements": [{"vulnerability": "CVE-2019-5482", "products": ["pkg:oci/app"], "subcomponents": ["pkg:apk/alpine/curl"],
	  "status": "not_affected", "justification": "inline_mitigations_already_exist"}]}`
	stmts, err := parseVEX("v.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r := reporttest.Report()
	(&Policy{vex: stmts}).Apply(r, testNow)
	if s := finding(t, r, "CVE-2019-5482").Suppressed; s == nil || s.Justification != "inline_mitigations_already_exist" {
		t.Errorf("%+v", s)
	}
}

// TestCycloneDXFixtureValid checks the CycloneDX fixture against the
// official 1.6 schema from the corpus, so the parser is tested on
// documents real tools accept.
func TestCycloneDXFixtureValid(t *testing.T) {
	schemaDir := corpus.Path(t, "schemas")
	c := jsonschema.NewCompiler()
	for _, name := range []string{"spdx.schema.json", "jsf-0.82.schema.json"} {
		doc := loadJSON(t, filepath.Join(schemaDir, name))
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			id = "http://cyclonedx.org/schema/" + name
		}
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+name, doc); err != nil && !strings.Contains(err.Error(), "already") {
			t.Fatal(err)
		}
	}
	if err := c.AddResource("bom-1.6.schema.json", loadJSON(t, filepath.Join(schemaDir, "bom-1.6.schema.json"))); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc := loadJSON(t, filepath.Join("testdata", "app.cdx.json"))
	doc.(map[string]any)["specVersion"] = "1.6"
	if err := sch.Validate(doc); err != nil {
		t.Errorf("testdata/app.cdx.json is not valid CycloneDX 1.6: %v", err)
	}
}

func loadJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
