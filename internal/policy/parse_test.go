package policy

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	p, err := Parse("tenant:exceptions", []byte("ignore:\n  - id: CVE-2021-3711\n    package: libssl*\n    reason: not reachable\n    expires: 2099-01-01\n"))
	if err != nil || len(p.vulns) != 1 {
		t.Fatalf("Parse = %v, %v", p, err)
	}
	for _, tc := range []struct{ doc, want string }{
		{"ignore:\n  - id: CVE-1\n", "reason"},
		{"ignore:\n  - reason: x\n", "needs an id, a package or both"},
		{"ignore:\n  - id: CVE-*\n    reason: x\n", "id must be one vulnerability id"},
		{"ignore:\n  - package: '[a'\n    reason: x\n", "package"},
		{"ignore:\n  - id: CVE-1\n    reason: x\n    expires: tomorrow\n", "expires"},
		{"vex:\n  - a.json\n", "vex documents are not supported"},
		{strings.Repeat("#", maxPolicySize+1), "larger than"},
	} {
		if _, err := Parse("t", []byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want %q", tc.doc[:min(len(tc.doc), 40)], err, tc.want)
		}
	}
}
