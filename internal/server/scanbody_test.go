package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/publish"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
	"github.com/vigil-scan/vigil/internal/vuln"
)

const bodySecret = "Zq8vLk2mWp9xRt4sYb7n"

// clearReport is a report as a client that masks nothing would post it: a
// config secret repeated in a layer's created_by.
func clearReport() *result.Report {
	layer := &inventory.LayerRef{Index: 1, DiffID: "sha256:01", CreatedBy: "/bin/sh -c curl -H 'Token: " + bodySecret + "' https://x | sh"}
	return &result.Report{
		SchemaVersion: result.SchemaVersion,
		Tool:          result.Tool{Name: "vigil", Version: "1"},
		Artifact: inventory.Artifact{Name: "alpine:3.10", Digest: "sha256:" + strings.Repeat("ab", 32),
			Config: &inventory.ImageConfig{Env: []string{"DEPLOY_TOKEN=" + bodySecret}}},
		Packages:        []inventory.Package{{Name: "musl", Version: "1.1.22-r3", Layer: layer}, {Name: "zlib", Version: "1.2.11-r1"}},
		Vulnerabilities: []vuln.Finding{{ID: "CVE-2019-14697", Severity: "CRITICAL", Layer: layer}, {ID: "CVE-2018-25032", Severity: "HIGH"}},
		Warnings:        []string{"w"},
	}
}

// oldStored is what the server stored before it streamed the body: the
// whole payload decoded, redacted and the report marshalled.
func oldStored(t *testing.T, body []byte) (string, []vuln.Finding) {
	t.Helper()
	var pl publish.Payload
	if err := json.Unmarshal(body, &pl); err != nil {
		t.Fatal(err)
	}
	secrets.RedactReport(pl.Report)
	js, _ := json.Marshal(pl.Report)
	return string(js), pl.Report.Vulnerabilities
}

// reorderReport rewrites the report member of a payload with its members
// in the order keys.
func reorderReport(t *testing.T, payload []byte, keys ...string) []byte {
	t.Helper()
	var pl map[string]json.RawMessage
	json.Unmarshal(payload, &pl)
	var rep map[string]json.RawMessage
	json.Unmarshal(pl["report"], &rep)
	var b bytes.Buffer
	b.WriteString(`{"trace":` + string(pl["trace"]) + `,"report":{`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + k + `":` + string(rep[k]))
	}
	b.WriteString(`},"version":"1","image":` + string(pl["image"]) + `}`)
	return b.Bytes()
}

// TestDecodeScanBody: the streamed decode stores what the whole decode
// stored (byte for byte when the report's members are in Vigil's order,
// the same JSON value otherwise), masked, with the same findings.
func TestDecodeScanBody(t *testing.T) {
	body, _ := json.Marshal(publish.Payload{Version: "1", Image: publish.Image{Name: "alpine:3.10"}, Trace: publish.Trace{RunID: "7"}, Report: clearReport()})
	for name, b := range map[string][]byte{
		"vigil order":        body,
		"artifact last":      reorderReport(t, body, "packages", "vulnerabilities", "schema_version", "tool", "created_at", "summary", "warnings", "artifact"),
		"findings first":     reorderReport(t, body, "artifact", "vulnerabilities", "schema_version", "packages", "created_at", "summary", "warnings", "tool"),
		"no findings member": reorderReport(t, body, "schema_version", "artifact", "packages", "warnings"),
		"no arrays":          reorderReport(t, body, "schema_version", "artifact", "warnings"),
	} {
		wantJS, wantFindings := oldStored(t, b)
		got, err := decodeScanBody(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(got.ReportJSON, bodySecret) {
			t.Errorf("%s: stored report holds the secret", name)
		}
		if name == "vigil order" && got.ReportJSON != wantJS {
			t.Errorf("%s: stored\n%s\nwant\n%s", name, got.ReportJSON, wantJS)
		}
		var g, w any
		if err := json.Unmarshal([]byte(got.ReportJSON), &g); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		json.Unmarshal([]byte(wantJS), &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: stored\n%s\nwant\n%s", name, got.ReportJSON, wantJS)
		}
		if !reflect.DeepEqual(got.Findings, wantFindings) {
			t.Errorf("%s: findings %+v, want %+v", name, got.Findings, wantFindings)
		}
		if got.Version != "1" || got.Trace.RunID != "7" || got.Image.Name != "alpine:3.10" || got.Head.Artifact.Name != "alpine:3.10" {
			t.Errorf("%s: %+v", name, got)
		}
	}
	for name, b := range map[string]string{
		"two packages":  `{"version":"1","report":{"artifact":{"name":"a"},"packages":[],"Packages":[]}}`,
		"two reports":   `{"version":"1","report":{},"report":{}}`,
		"bad package":   `{"version":"1","report":{"artifact":{"name":"a"},"packages":[{"name":1}]}}`,
		"truncated":     string(body[:len(body)/2]),
		"not an object": `[]`,
		"report array":  `{"report":[]}`,
	} {
		if _, err := decodeScanBody(strings.NewReader(b), 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if got, err := decodeScanBody(strings.NewReader(`{"version":"1","report":null}`), 0); err != nil || got.Head != nil {
		t.Errorf("null report: %+v %v", got, err)
	}
}
