package image

import (
	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/osrelease"
)

// finish detects the OS from the merged files and gives OS packages their
// distro ecosystem and purl distro qualifier.
func finish(inv *inventory.Inventory) {
	os := osrelease.Detect(inv.Contents)
	inv.Artifact.OS = os
	eco := osrelease.Ecosystem(os)
	distro := distroQualifier(os)
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if !p.IsOS() {
			continue
		}
		p.Ecosystem = eco
		p.PURL = withQualifiers(*p, os, distro)
	}
}

// distroQualifier follows the purl examples and Trivy: alpine packages
// carry the release ("3.10.4"), others family-release ("debian-12.5").
func distroQualifier(os inventory.OS) string {
	if os.Version == "" {
		return ""
	}
	if os.Family == "alpine" {
		return os.Version
	}
	return os.Family + "-" + os.Version
}

// withQualifiers completes an OS package's purl once the OS is known, as
// Syft does: the namespace becomes the distro's ID (catalogers can only
// guess it: an Ubuntu dpkg database reads like a Debian one, every rpm
// database like Red Hat's), the distro qualifier is set, and so is the
// upstream (source package) qualifier when the source differs from the
// binary package, so SBOM formats without a source field (SPDX) still carry
// what distro feeds are keyed by. It builds a purl when the cataloger left
// none.
func withQualifiers(p inventory.Package, os inventory.OS, distro string) string {
	purl, err := packageurl.FromString(p.PURL)
	if p.PURL == "" || err != nil {
		purl = *packageurl.NewPackageURL(p.Type, os.Family, p.Name, p.Version, nil, "")
		if p.Arch != "" {
			purl.Qualifiers = append(purl.Qualifiers, packageurl.Qualifier{Key: "arch", Value: p.Arch})
		}
	}
	if os.Family != "" {
		purl.Namespace = os.Family
	}
	m := purl.Qualifiers.Map()
	if distro != "" {
		m["distro"] = distro
	}
	if src := p.Source; src != nil && src.Name != "" && (src.Name != p.Name || (src.Version != "" && src.Version != p.Version)) {
		up := src.Name
		if src.Version != "" && src.Version != p.Version {
			up += "@" + src.Version
		}
		m["upstream"] = up
	}
	purl.Qualifiers = packageurl.QualifiersFromMap(m)
	return purl.ToString()
}
