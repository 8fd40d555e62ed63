package version

import "strings"

// evr is a version in the [epoch:]version[-release] layout of dpkg and rpm.
type evr struct{ epoch, version, release string }

// compareEVR orders by numeric epoch (absent is 0), then version, then
// release, the last two with the package manager's own vercmp.
func compareEVR(a, b evr, vercmp func(a, b string) int) int {
	if r := cmpNumeric(orZero(a.epoch), orZero(b.epoch)); r != 0 {
		return r
	}
	if r := vercmp(a.version, b.version); r != 0 {
		return r
	}
	return vercmp(a.release, b.release)
}

// splitEVR splits [epoch:]version[-release], the layout dpkg and rpm share
// (dpkg calls the parts upstream version and revision): the epoch is
// digits before the first ':', the release follows the last '-'. kind names
// the ecosystem in errors, release what it calls the part after the dash.
func splitEVR(kind, s, release string) (epoch, ver, rel string, err error) {
	if s == "" {
		return "", "", "", invalid(kind, s, "empty")
	}
	if len(s) > maxVersionLen {
		return "", "", "", invalid(kind, s, "too long")
	}
	rest := s
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		epoch, rest = rest[:i], rest[i+1:]
		if epoch == "" {
			return "", "", "", invalid(kind, s, "empty epoch")
		}
		for j := 0; j < len(epoch); j++ {
			if !isDigit(epoch[j]) {
				return "", "", "", invalid(kind, s, "epoch is not a number")
			}
		}
	}
	ver = rest
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		ver, rel = rest[:i], rest[i+1:]
		if rel == "" {
			return "", "", "", invalid(kind, s, "empty "+release)
		}
	}
	return epoch, ver, rel, nil
}
