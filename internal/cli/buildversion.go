package cli

import (
	"runtime/debug"
	"strings"
)

// BuildVersion is the version `vigil version` and `--version` print: the
// -ldflags Version of a release build; otherwise what the Go toolchain
// recorded in the binary (debug.ReadBuildInfo), so a `go install
// github.com/vigil-scan/vigil/cmd/vigil@v1.4.0` says v1.4.0 and a build
// from a checkout names its commit: "devel+0123abcd4567 (2026-12-06T18:00:00Z, modified)".
func BuildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	return buildVersion(Version, info)
}

func buildVersion(ldflags string, info *debug.BuildInfo) string {
	if ldflags != "" && ldflags != "dev" {
		return ldflags
	}
	v := info.Main.Version
	if v != "" && v != "(devel)" {
		return v // a module version: go install ...@vX.Y.Z, or a pseudo-version
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	out := "devel+" + rev[:min(len(rev), 12)]
	var notes []string
	if when != "" {
		notes = append(notes, when)
	}
	if modified {
		notes = append(notes, "modified")
	}
	if len(notes) > 0 {
		out += " (" + strings.Join(notes, ", ") + ")"
	}
	return out
}
