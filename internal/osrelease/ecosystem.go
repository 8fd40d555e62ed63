package osrelease

import (
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem/debian"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// Ecosystem returns the OSV ecosystem (in ecosystem.Canonical form) that the
// OS's packages are matched in, "" when the OS is unknown or has no usable
// version.
//
// Red Hat: OSV keys RHEL advisories by CPE-like strings
// ("Red Hat:enterprise_linux:9::appstream") that depend on the repository a
// package came from, which an image does not record; "Red Hat:<major>" is the
// release key the matcher maps onto them. CentOS and Fedora have no OSV
// ecosystem; they get descriptive keys that match nothing rather than a
// wrong distro's data.
func Ecosystem(o inventory.OS) string {
	v := o.Version
	switch o.Family {
	case "alpine":
		if mm := majorMinor(v); strings.Contains(mm, ".") {
			return "Alpine:v" + mm
		}
	case "debian":
		if m := major(v); m != "" {
			return "Debian:" + m
		}
		// Testing and unstable images have a codename but no number: their
		// packages are matched against the release being prepared.
		if eco, ok := debian.Ecosystem(o.Codename); ok {
			return eco
		}
		if c, _, _ := strings.Cut(v, "/"); c != "" {
			if eco, ok := debian.Ecosystem(c); ok {
				return eco
			}
		}
	case "ubuntu":
		if mm := majorMinor(v); strings.Contains(mm, ".") {
			return "Ubuntu:" + mm
		}
	case "almalinux":
		return withMajor("AlmaLinux", v)
	case "rocky":
		return withMajor("Rocky Linux", v)
	case "rhel":
		return withMajor("Red Hat", v)
	case "centos":
		return withMajor("CentOS", v)
	case "fedora":
		return withMajor("Fedora", v)
	case "ol":
		return withMajor("Oracle Linux", v)
	case "amzn":
		return withMajor("Amazon Linux", v)
	case "sles", "sled", "sles_sap":
		// OSV: "SUSE:Linux Enterprise Server 15 SP5".
		m := major(v)
		if m == "" {
			return ""
		}
		_, rest, _ := strings.Cut(v, ".")
		if sp := leadingNumber(rest); sp != "" && sp != "0" {
			return "SUSE:Linux Enterprise Server " + m + " SP" + sp
		}
		return "SUSE:Linux Enterprise Server " + m
	case "opensuse-leap", "opensuse":
		if v != "" {
			return "openSUSE:Leap " + v
		}
	case "opensuse-tumbleweed":
		return "openSUSE:Tumbleweed"
	case "wolfi":
		return "Wolfi"
	case "chainguard":
		return "Chainguard"
	case "mariner":
		if mm := majorMinor(v); mm != "" {
			return "Mariner:" + mm
		}
	case "azurelinux":
		if mm := majorMinor(v); mm != "" {
			return "Azure Linux:" + mm
		}
	case "photon":
		if mm := majorMinor(v); mm != "" {
			return "Photon OS:" + mm
		}
	}
	return ""
}

func withMajor(name, version string) string {
	if m := major(version); m != "" {
		return name + ":" + m
	}
	return ""
}
