package version

import (
	"strings"

	"golang.org/x/mod/semver"
)

// Go orders Go module versions with golang.org/x/mod/semver. The "v" prefix
// is optional (OSV Go records omit it; go.mod and build info carry it), and
// Go toolchain versions ("go1.22.5", "go1.21rc2", "go1.21") are converted to
// semver the way the Go vulnerability database does, so the "stdlib" and
// "toolchain" modules compare against its records.
type Go struct{}

// goSemver returns v as a canonical-ready "vX.Y.Z..." string, or "" if
// it is not a valid Go module or toolchain version.
func goSemver(v string) string {
	if len(v) > maxVersionLen || v == "" {
		return ""
	}
	if strings.HasPrefix(v, "go") {
		return goToolchainSemver(v[2:])
	}
	if v[0] != 'v' {
		v = "v" + v
	}
	if !semver.IsValid(v) {
		return ""
	}
	return v
}

// goToolchainSemver converts "1.21rc2" to "v1.21.0-rc.2", "1.21" to
// "v1.21.0", "1.22.5" to "v1.22.5" (as golang.org/x/vuln does).
func goToolchainSemver(v string) string {
	pre := ""
	for _, tag := range []string{"rc", "beta", "alpha"} {
		if i := strings.Index(v, tag); i > 0 {
			num := v[i+len(tag):]
			if num == "" || !isNumericIdent(num) {
				return ""
			}
			pre = "-" + tag + "." + num
			v = v[:i]
			break
		}
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return ""
	}
	for _, p := range parts {
		if p == "" || !isNumericIdent(p) {
			return ""
		}
	}
	if len(parts) == 2 {
		v += ".0"
	}
	s := "v" + v + pre
	if !semver.IsValid(s) {
		return ""
	}
	return s
}

// Compare implements Comparator.
func (Go) Compare(a, b string) (int, error) {
	sa := goSemver(a)
	if sa == "" {
		return 0, invalid("Go", a, "not a semantic version")
	}
	sb := goSemver(b)
	if sb == "" {
		return 0, invalid("Go", b, "not a semantic version")
	}
	return semver.Compare(sa, sb), nil
}
