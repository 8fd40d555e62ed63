package osrelease

import (
	"bufio"
	"bytes"
	"cmp"
	"regexp"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// Detect identifies the OS from the merged filesystem's kept files
// (inventory.Inventory.Contents, symlinks already resolved).
//
// os-release wins; the distro-specific files refine it (alpine-release
// carries the patch release, debian_version the point release or
// "trixie/sid" on testing images that have no VERSION_ID) or stand in for it
// on images too old to have one.
//
// Distroless is set when os-release's PRETTY_NAME says "Distroless" (Google
// distroless), or when the image carries distroless package metadata
// (dpkg status.d files, CBL-Mariner's container-manifest-2) but no shell.
func Detect(contents map[string][]byte) inventory.OS {
	var o inventory.OS
	rel, ok := contents["etc/os-release"]
	if !ok {
		rel, ok = contents["usr/lib/os-release"]
	}
	if ok {
		kv := ParseOSRelease(rel)
		o.Family = strings.ToLower(kv["ID"])
		o.Version = kv["VERSION_ID"]
		o.Codename = cmp.Or(kv["VERSION_CODENAME"], kv["UBUNTU_CODENAME"])
		o.Name = cmp.Or(kv["PRETTY_NAME"], kv["NAME"])
		if strings.Contains(strings.ToLower(kv["PRETTY_NAME"]), "distroless") {
			o.Distroless = true
		}
	}
	if o.Family == "" {
		o = fromLegacyFiles(contents)
	}
	refine(&o, contents)
	if o.Family != "" && !o.Distroless && hasDistrolessMetadata(contents) && !hasShell(contents) {
		o.Distroless = true
	}
	return o
}

// refine uses the distro-specific files for detail os-release lacks.
func refine(o *inventory.OS, contents map[string][]byte) {
	switch o.Family {
	case "alpine", "":
		if v := firstLine(contents["etc/alpine-release"]); v != "" {
			o.Family, o.Version = "alpine", v
			if o.Name == "" {
				o.Name = "Alpine Linux v" + majorMinor(v)
			}
		}
	}
	switch o.Family {
	case "debian", "":
		v := firstLine(contents["etc/debian_version"])
		if v == "" {
			return
		}
		o.Family = "debian"
		// debian_version holds "12.5" on stable, a codename pair on testing.
		if isDigit(v) || o.Version == "" {
			o.Version = v
		}
		if o.Codename == "" {
			if c, _, ok := strings.Cut(v, "/"); ok && !isDigit(c) {
				o.Codename = c
			}
		}
		if o.Name == "" {
			o.Name = "Debian GNU/Linux " + v
		}
	}
}

var releaseLine = regexp.MustCompile(`^(.*?)\s+release\s+([0-9][0-9.]*)`)

// fromLegacyFiles reads the release files of images without os-release.
func fromLegacyFiles(contents map[string][]byte) inventory.OS {
	for _, p := range []string{"etc/centos-release", "etc/redhat-release", "etc/fedora-release", "etc/system-release"} {
		line := firstLine(contents[p])
		m := releaseLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if fam := familyFromName(m[1]); fam != "" {
			return inventory.OS{Family: fam, Version: m[2], Name: line}
		}
	}
	if kv := ParseOSRelease(contents["etc/lsb-release"]); kv["DISTRIB_ID"] != "" {
		return inventory.OS{Family: strings.ToLower(kv["DISTRIB_ID"]), Version: kv["DISTRIB_RELEASE"],
			Codename: kv["DISTRIB_CODENAME"], Name: kv["DISTRIB_DESCRIPTION"]}
	}
	if o, ok := fromSuSERelease(contents["etc/SuSE-release"]); ok {
		return o
	}
	if line := firstLine(contents["etc/photon-release"]); strings.HasPrefix(line, "VMware Photon") {
		f := strings.Fields(line)
		return inventory.OS{Family: "photon", Version: f[len(f)-1], Name: line}
	}
	if line := firstLine(contents["etc/mariner-release"]); strings.HasPrefix(line, "CBL-Mariner") {
		f := strings.Fields(line)
		if len(f) >= 2 {
			return inventory.OS{Family: "mariner", Version: majorMinor(f[1]), Name: line}
		}
	}
	return inventory.OS{}
}

// fromSuSERelease reads the pre-os-release SUSE file:
// "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4".
func fromSuSERelease(b []byte) (inventory.OS, bool) {
	name := firstLine(b)
	if name == "" {
		return inventory.OS{}, false
	}
	var version, patch string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "VERSION":
			version = strings.TrimSpace(v)
		case "PATCHLEVEL":
			patch = strings.TrimSpace(v)
		}
	}
	if version == "" {
		return inventory.OS{}, false
	}
	if patch != "" && patch != "0" && !strings.Contains(version, ".") {
		version += "." + patch
	}
	fam := "sles"
	if strings.Contains(strings.ToLower(name), "opensuse") {
		fam = "opensuse-leap"
	}
	return inventory.OS{Family: fam, Version: version, Name: name}, true
}

func familyFromName(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "centos"):
		return "centos"
	case strings.HasPrefix(n, "red hat"):
		return "rhel"
	case strings.HasPrefix(n, "fedora"):
		return "fedora"
	case strings.HasPrefix(n, "amazon linux"):
		return "amzn"
	case strings.HasPrefix(n, "almalinux"):
		return "almalinux"
	case strings.HasPrefix(n, "rocky"):
		return "rocky"
	case strings.HasPrefix(n, "oracle"):
		return "ol"
	}
	return ""
}

func hasShell(contents map[string][]byte) bool {
	for p := range shellPaths {
		if _, ok := contents[p]; ok {
			return true
		}
	}
	return false
}

func hasDistrolessMetadata(contents map[string][]byte) bool {
	if _, ok := contents[marinerManifest]; ok {
		return true
	}
	for p := range contents {
		if strings.HasPrefix(p, dpkgStatusDir) {
			return true
		}
	}
	return false
}

// ParseOSRelease parses os-release syntax (also lsb-release): KEY=VALUE
// lines, values optionally single- or double-quoted, backslash escapes in
// double quotes, comments and blank lines ignored.
func ParseOSRelease(b []byte) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxReleaseFile)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	return kv
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		q := v[0]
		v = v[1 : len(v)-1]
		if q == '\'' {
			return v
		}
		var sb strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			sb.WriteByte(v[i])
		}
		return sb.String()
	}
	return v
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	return strings.TrimSpace(string(line))
}

func isDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// majorMinor returns the leading "N.M" of a version ("3.10.4" -> "3.10"),
// just "N" when there is no numeric minor ("3", "3.x"), and "" when the
// version does not start with a number.
func majorMinor(v string) string {
	maj, rest, _ := strings.Cut(v, ".")
	maj = leadingNumber(maj)
	if maj == "" {
		return ""
	}
	minor, _, _ := strings.Cut(rest, ".")
	if minor = leadingNumber(minor); minor == "" {
		return maj
	}
	return maj + "." + minor
}

// major returns the leading number of a version ("12.5" -> "12").
func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return leadingNumber(m)
}

func leadingNumber(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
