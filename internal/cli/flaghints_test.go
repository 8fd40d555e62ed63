package cli

import (
	"strings"
	"testing"
)

// TestUnknownFlagSaysWhatToType: a typo names the nearest flag, a flag
// copied from a Trivy or Grype script names Vigil's equivalent, and
// anything else points at --help. All exit 2 before any scan.
func TestUnknownFlagSaysWhatToType(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"image", "--severty", "HIGH", "app.tar"}, "unknown flag: --severty: did you mean --severity? (see vigil image --help)"},
		{[]string{"image", "--severity-treshold", "HIGH", "app.tar"}, "did you mean --severity-threshold?"},
		{[]string{"image", "--input", "app.tar"}, "vigil image PATH"},
		{[]string{"image", "app.tar", "--fail-on", "high"}, "--severity-threshold SEVERITY"},
		{[]string{"image", "app.tar", "--no-progress"}, "-q/--quiet"},
		{[]string{"sbom", "app.tar", "--formt", "json"}, "did you mean --format?"},
		{[]string{"image", "app.tar", "--zzzzzz"}, "unknown flag: --zzzzzz (see vigil image --help)"},
	} {
		code, _, stderr := run(t, map[string]string{"VIGIL_CACHE_DIR": t.TempDir()}, "", tc.args...)
		if code != ExitScanFailed || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"severty", "severity", 1}, {"formt", "format", 1}, {"abc", "xyz", 3}, {"", "ab", 2}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestBadSeverityListsTheValidOnes: a typo'd --severity names the values
// it takes and an example.
func TestBadSeverityListsTheValidOnes(t *testing.T) {
	code, _, stderr := run(t, map[string]string{"VIGIL_CACHE_DIR": t.TempDir()}, "", "image", "--severity", "HIHG", "--skip-db-update", "--db", "/nonexistent/vigil.db", "dir:"+t.TempDir())
	if code != ExitScanFailed || !strings.Contains(stderr, `invalid severity "HIHG": want one of UNKNOWN, NEGLIGIBLE, LOW, MEDIUM, HIGH, CRITICAL`) || !strings.Contains(stderr, "--severity HIGH,CRITICAL") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
}
