package debian

import "strings"

// releases maps Debian codenames to the release number OSV uses in its
// "Debian:<n>" ecosystems: the major version from etch (4) on, the
// major.minor of older releases, as their debian_version files read.
var releases = map[string]string{
	"buzz":     "1.1",
	"rex":      "1.2",
	"bo":       "1.3",
	"hamm":     "2.0",
	"slink":    "2.1",
	"potato":   "2.2",
	"woody":    "3.0",
	"sarge":    "3.1",
	"etch":     "4",
	"lenny":    "5",
	"squeeze":  "6",
	"wheezy":   "7",
	"jessie":   "8",
	"stretch":  "9",
	"buster":   "10",
	"bullseye": "11",
	"bookworm": "12",
	"trixie":   "13",
	"forky":    "14",
	"duke":     "15",
}

// Release returns the release number of a Debian codename ("bookworm" ->
// "12"). sid and experimental have no number, so ok is false for them and
// for unknown names; feed records for such releases are skipped because no
// image reports them as a numbered Debian ecosystem.
func Release(codename string) (version string, ok bool) {
	version, ok = releases[strings.ToLower(strings.TrimSpace(codename))]
	return version, ok
}

// Ecosystem returns the OSV ecosystem of a Debian codename ("Debian:12").
func Ecosystem(codename string) (string, bool) {
	v, ok := Release(codename)
	if !ok {
		return "", false
	}
	return "Debian:" + v, true
}
