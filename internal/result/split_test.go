package result

import (
	"encoding/json"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestSplitAroundLists(t *testing.T) {
	// The same member text inside a string and inside a nested object
	// must not be taken for the report's own.
	r := Report{SchemaVersion: "1", Artifact: inventory.Artifact{Name: `"packages":null,"vulnerabilities":null`}}
	compact, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	head, tail, ok := SplitAroundLists(compact)
	if !ok {
		t.Fatalf("not split: %s", compact)
	}
	joined := string(head) + `"packages":null,"vulnerabilities":null` + string(tail)
	if joined != string(compact) {
		t.Fatalf("head+gap+tail != compact:\n%s\n%s", joined, compact)
	}
	var back Report
	if err := json.Unmarshal([]byte(string(head)+`"packages":[],"vulnerabilities":[]`+string(tail)), &back); err != nil {
		t.Fatalf("arrays put in the gap do not make valid JSON: %v", err)
	}
	if back.Artifact.Name != r.Artifact.Name {
		t.Fatalf("artifact name %q, want %q", back.Artifact.Name, r.Artifact.Name)
	}
	if _, _, ok := SplitAroundLists([]byte(`{"x":{"packages":null,"vulnerabilities":null}}`)); ok {
		t.Fatal("split at a nested object's members")
	}
}
