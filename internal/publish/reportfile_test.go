package publish

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

const fileSecret = "Zq8vLk2mWp9xRt4sYb7n"

func secretReport() *result.Report {
	layer := &inventory.LayerRef{Index: 1, DiffID: "sha256:01", CreatedBy: "/bin/sh -c curl -H 'Token: " + fileSecret + "' https://x | sh"}
	return &result.Report{
		SchemaVersion: result.SchemaVersion,
		Artifact: inventory.Artifact{Name: "alpine:3.10", Digest: "sha256:" + strings.Repeat("ab", 32),
			Config: &inventory.ImageConfig{Env: []string{"DEPLOY_TOKEN=" + fileSecret}}},
		Packages:        []inventory.Package{{Name: "musl", Version: "1.1.22-r3", Layer: layer}, {Name: "zlib", Version: "1.2.11-r1"}},
		Vulnerabilities: []vuln.Finding{{ID: "CVE-2019-14697", Severity: "CRITICAL", Layer: layer}},
		Warnings:        []string{"w"},
	}
}

// reorder writes the members of the JSON object b in the order keys.
func reorder(t *testing.T, b []byte, keys ...string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `"`+k+`":`...)
		out = append(out, m[k]...)
	}
	return append(out, '}')
}

// TestOpenReportAnyMemberOrder: a report whose artifact comes after its
// packages and findings (another writer's order), or that has no
// findings member, gives the payload NewPayload gives (as a JSON value),
// masked, with the announced size.
func TestOpenReportAnyMemberOrder(t *testing.T) {
	rep := secretReport()
	whole, _ := json.Marshal(NewPayload(rep, Trace{RunID: "7"}))
	var want any
	json.Unmarshal(whole, &want)
	b, _ := json.Marshal(rep)
	noFindings := *rep
	noFindings.Vulnerabilities = nil
	nb, _ := json.Marshal(&noFindings)
	var wantNo any
	wholeNo, _ := json.Marshal(NewPayload(&noFindings, Trace{RunID: "7"}))
	json.Unmarshal(wholeNo, &wantNo)
	for name, tt := range map[string]struct {
		file []byte
		want any
	}{
		"vigil order":       {b, want},
		"artifact last":     {reorder(t, b, "vulnerabilities", "summary", "packages", "warnings", "schema_version", "tool", "created_at", "artifact"), want},
		"findings omitted":  {reorder(t, nb, "schema_version", "artifact", "packages", "warnings"), wantNo},
		"packages in front": {reorder(t, b, "packages", "schema_version", "artifact", "vulnerabilities", "tool", "created_at", "summary", "warnings"), want},
	} {
		p := filepath.Join(t.TempDir(), "r.json")
		os.WriteFile(p, tt.file, 0o600)
		u, err := OpenReport(p, Trace{RunID: "7"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		if _, err := u.WriteTo(&buf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if int64(buf.Len()) != u.Size() {
			t.Errorf("%s: wrote %d bytes, announced %d", name, buf.Len(), u.Size())
		}
		if bytes.Contains(buf.Bytes(), []byte(fileSecret)) {
			t.Errorf("%s: the payload holds the secret", name)
		}
		var got any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, buf.Bytes())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: payload\n%s\nwant\n%s", name, buf.Bytes(), whole)
		}
		if name == "vigil order" && !bytes.Equal(buf.Bytes(), whole) {
			t.Errorf("vigil order: not byte for byte the whole encoding")
		}
		if u.IdempotencyKey() != NewPayload(rep, Trace{RunID: "7"}).IdempotencyKey() {
			t.Errorf("%s: idempotency key differs", name)
		}
	}
}

// TestOpenReportChangedFile: a file rewritten between the check and an
// attempt stops the upload with an error, not a body of another length.
func TestOpenReportChangedFile(t *testing.T) {
	b, _ := json.Marshal(secretReport())
	p := filepath.Join(t.TempDir(), "r.json")
	os.WriteFile(p, b, 0o600)
	u, err := OpenReport(p, Trace{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, b[:len(b)/2], 0o600)
	if _, err := u.WriteTo(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "changed while it was being published") {
		t.Fatalf("err %v", err)
	}
}
