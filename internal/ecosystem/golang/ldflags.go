package golang

import (
	"runtime/debug"
	"strings"
)

// versionVariables are the -X targets that conventionally carry a
// program's release version, for main modules built outside a module
// version ("(devel)").
var versionVariables = map[string]bool{
	"main.version": true, "main.Version": true,
	"main.appVersion": true, "main.AppVersion": true,
}

// versionFromLdflags recovers a main module version set at link time with
// `-ldflags "-X main.version=v1.0.0"`, or "" when there is none.
func versionFromLdflags(info *debug.BuildInfo) string {
	for _, s := range info.Settings {
		if s.Key != "-ldflags" {
			continue
		}
		args := splitFlags(s.Value)
		for i := 0; i < len(args); i++ {
			arg := args[i]
			var def string
			switch {
			case arg == "-X" || arg == "--X":
				if i+1 < len(args) {
					i++
					def = args[i]
				}
			case strings.HasPrefix(arg, "-X="):
				def = arg[len("-X="):]
			case strings.HasPrefix(arg, "--X="):
				def = arg[len("--X="):]
			}
			name, value, ok := strings.Cut(def, "=")
			if !ok || !versionVariables[name] {
				continue
			}
			if v := moduleVersion(value); v != "" {
				return v
			}
		}
	}
	return ""
}

// moduleVersion returns value as a Go module version ("1.0.0" -> "v1.0.0"),
// or "" when it does not look like a release number.
func moduleVersion(value string) string {
	v := strings.TrimPrefix(value, "v")
	if v == "" || v[0] < '0' || v[0] > '9' || strings.ContainsAny(v, " \t") {
		return ""
	}
	return "v" + v
}

// splitFlags splits a flag string the way the go command does for
// -ldflags: on spaces, with single or double quotes grouping words.
func splitFlags(s string) []string {
	var (
		args  []string
		cur   strings.Builder
		quote rune
		inArg bool
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inArg = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args
}
