package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	code, out, _ := run(t, nil, "", "version")
	if code != 0 || strings.TrimSpace(out) != BuildVersion() || out == "" {
		t.Fatalf("code %d out %q", code, out)
	}
}

func TestBuildVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		ldflags string
		info    debug.BuildInfo
		want    string
	}{
		{"v1.4.0", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "v1.4.0"},
		{"dev", debug.BuildInfo{Main: debug.Module{Version: "v1.3.2"}}, "v1.3.2"},
		{"dev", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206180000-0123abcd4567"}}, "v0.0.0-20261206180000-0123abcd4567"},
		{"dev", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "0123abcd4567890fedcba", "vcs.time", "2026-12-06T18:00:00Z", "vcs.modified", "true")},
			"devel+0123abcd4567 (2026-12-06T18:00:00Z, modified)"},
		{"dev", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "abc")}, "devel+abc"},
		{"dev", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"", debug.BuildInfo{}, "dev"},
	}
	for _, tt := range tests {
		if got := buildVersion(tt.ldflags, &tt.info); got != tt.want {
			t.Errorf("buildVersion(%q, %+v) = %q, want %q", tt.ldflags, tt.info.Main, got, tt.want)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"deb", "1.0-1", "2:0.1"}, "<"},
		{[]string{"Debian:12", "1.0000-1", "1.0-1"}, "="},
		{[]string{"apk", "1.1.1d-r2", "1.1.1d-r0"}, ">"},
		{[]string{"rpm", "1.0^git1", "1.0"}, ">"},
		{[]string{"pypi", "1.0rc1", "1.0c1"}, "="},
		{[]string{"maven", "1.0-alpha1", "1.0"}, "<"},
		{[]string{"npm", "v1.2.3", "1.2.3"}, "="},
		{[]string{"go", "v1.2.3", "1.10.0"}, "<"},
		{[]string{"cargo", "1.0.0", "1.0.0-rc.1"}, ">"},
	}
	for _, tt := range tests {
		args := append([]string{"version", "compare"}, tt.args...)
		code, out, stderr := run(t, nil, "", args...)
		if code != 0 || strings.TrimSpace(out) != tt.want {
			t.Errorf("%v: code %d out %q stderr %q, want %s", tt.args, code, out, stderr, tt.want)
		}
	}
}

func TestVersionCompareStdin(t *testing.T) {
	code, out, stderr := run(t, nil, "1.0 2.0\n# comment\n\n2.0 2.0\n3.0 2.0\n", "version", "compare", "rpm", "-")
	if code != 0 || out != "<\n=\n>\n" {
		t.Fatalf("code %d out %q stderr %q", code, out, stderr)
	}
	code, _, stderr = run(t, nil, "1.0 2.0\nonly-one\n", "version", "compare", "rpm", "-")
	if code != ExitScanFailed || !strings.Contains(stderr, "line 2") {
		t.Fatalf("bad line: code %d stderr %q", code, stderr)
	}
}

func TestVersionCompareErrors(t *testing.T) {
	for _, args := range [][]string{
		{"version", "compare", "haiku", "1", "2"},
		{"version", "compare", "deb", "a1.0", "1.0"},
		{"version", "compare", "pypi", "1.0", "not a version"},
		{"version", "compare", "deb", "1.0"},
	} {
		code, _, stderr := run(t, nil, "", args...)
		if code != ExitScanFailed || !strings.HasPrefix(stderr, "vigil: ") {
			t.Errorf("%v: code %d stderr %q", args, code, stderr)
		}
	}
}
