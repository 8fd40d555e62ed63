package sbomin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// languageTypes maps purl types to Vigil's package type and OSV ecosystem.
var languageTypes = map[string]struct{ typ, eco string }{
	packageurl.TypeGolang:   {inventory.TypeGolang, ecosystem.Go},
	packageurl.TypePyPi:     {inventory.TypePyPI, ecosystem.PyPI},
	packageurl.TypeNPM:      {inventory.TypeNPM, ecosystem.NPM},
	packageurl.TypeMaven:    {inventory.TypeMaven, ecosystem.Maven},
	packageurl.TypeCargo:    {inventory.TypeCargo, ecosystem.CratesIO},
	packageurl.TypeNuget:    {inventory.TypeNuGet, ecosystem.NuGet},
	packageurl.TypeGem:      {inventory.TypeGem, ecosystem.RubyGems},
	packageurl.TypeComposer: {inventory.TypeComposer, ecosystem.Packagist},
}

// osFamilies maps purl namespaces, distro qualifier prefixes and the OS
// names other tools write (Trivy's "redhat", "amazon", "opensuse.leap") to
// os-release IDs, the OS.Family vocabulary.
var osFamilies = map[string]string{
	"alpine": "alpine", "debian": "debian", "ubuntu": "ubuntu",
	"redhat": "rhel", "rhel": "rhel", "centos": "centos", "rocky": "rocky", "rockylinux": "rocky",
	"almalinux": "almalinux", "alma": "almalinux", "amazon": "amzn", "amzn": "amzn", "fedora": "fedora",
	"oracle": "ol", "ol": "ol", "opensuse": "opensuse-leap", "opensuse-leap": "opensuse-leap",
	"opensuse.leap": "opensuse-leap", "opensuse-tumbleweed": "opensuse-tumbleweed",
	"opensuse.tumbleweed": "opensuse-tumbleweed", "suse": "sles", "sles": "sles",
	"suse linux enterprise server": "sles", "sled": "sled",
	"mariner": "mariner", "cbl-mariner": "mariner", "azurelinux": "azurelinux", "photon": "photon",
	"wolfi": "wolfi", "chainguard": "chainguard",
}

// normalizeFamily returns the os-release ID for an OS name as SBOM tools
// write it; unknown names are kept, lower-cased.
func normalizeFamily(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if f, ok := osFamilies[name]; ok {
		return f
	}
	return name
}

// purlPackage is what a purl says about a package.
type purlPackage struct {
	pkg inventory.Package
	// os is the distro the purl names (namespace and distro qualifier);
	// zero for language packages.
	os inventory.OS
	// supported is false for purl types Vigil has no matcher for.
	supported bool
}

// fromPURL builds a package from a purl: name, version, type and, for
// language packages, ecosystem; for OS packages the source package from
// the upstream qualifier and the distro from the namespace and distro
// qualifier. The OS packages' ecosystem is left to the caller, which knows
// the document's operating system.
func fromPURL(s string) (purlPackage, error) {
	p, err := packageurl.FromString(s)
	if err != nil {
		return purlPackage{}, fmt.Errorf("purl %q: %w", s, err)
	}
	q := p.Qualifiers.Map()
	pkg := inventory.Package{Name: p.Name, Version: p.Version, Type: p.Type, PURL: s, Arch: q["arch"]}
	if lt, ok := languageTypes[p.Type]; ok {
		pkg.Type, pkg.Ecosystem = lt.typ, lt.eco
		if p.Namespace != "" {
			sep := "/"
			if p.Type == packageurl.TypeMaven {
				sep = ":"
			}
			pkg.Name = p.Namespace + sep + p.Name
		}
		return purlPackage{pkg: pkg, supported: true}, nil
	}
	switch p.Type {
	case inventory.TypeApk, inventory.TypeDeb, inventory.TypeRPM:
	default:
		if p.Namespace != "" {
			pkg.Name = p.Namespace + "/" + p.Name
		}
		return purlPackage{pkg: pkg}, nil
	}
	if p.Type == inventory.TypeRPM {
		// The purl spec puts the rpm epoch in a qualifier; Vigil's
		// versions carry it as rpm prints it.
		if e, err := strconv.Atoi(q["epoch"]); err == nil && e > 0 && !strings.Contains(pkg.Version, ":") {
			pkg.Version = strconv.Itoa(e) + ":" + pkg.Version
		}
	}
	pkg.Source = sourceFromUpstream(p.Type, q["upstream"], pkg.Version)
	return purlPackage{pkg: pkg, os: distroOS(p.Namespace, q["distro"]), supported: true}, nil
}

// distroOS reads a purl namespace and distro qualifier: "alpine-3.10.4",
// "3.10.4", "debian-12", "bookworm", "ubuntu-22.04", "almalinux-9.3".
func distroOS(namespace, distro string) inventory.OS {
	o := inventory.OS{Family: osFamilies[strings.ToLower(namespace)]}
	distro = strings.TrimSpace(strings.ToLower(distro))
	if distro == "" {
		return o
	}
	if fam, ver, ok := cutFamily(distro); ok {
		o.Family, distro = fam, ver
	}
	switch {
	case distro == "":
	case distro[0] >= '0' && distro[0] <= '9':
		o.Version = distro
	default:
		o.Codename = distro
		if o.Family == "" {
			o.Family = "debian"
		}
	}
	return o
}

// cutFamily splits "alpine-3.10.4" into the family and the rest.
func cutFamily(distro string) (family, rest string, ok bool) {
	for i := len(distro) - 1; i > 0; i-- {
		if distro[i] != '-' {
			continue
		}
		if fam, known := osFamilies[distro[:i]]; known {
			return fam, distro[i+1:], true
		}
	}
	if fam, known := osFamilies[distro]; known {
		return fam, "", true
	}
	return "", "", false
}

// sourceFromUpstream reads the purl "upstream" qualifier: an Alpine origin
// name, a Debian "src" or "src@version", or an rpm source file name
// "name-version-release.src.rpm".
func sourceFromUpstream(typ, upstream, version string) *inventory.SourcePackage {
	upstream = strings.TrimSpace(upstream)
	if upstream == "" {
		return nil
	}
	if typ == inventory.TypeRPM {
		base, ok := strings.CutSuffix(upstream, ".src.rpm")
		if !ok {
			base, ok = strings.CutSuffix(upstream, ".nosrc.rpm")
		}
		if ok {
			if i := strings.LastIndexByte(base, '-'); i > 0 {
				if j := strings.LastIndexByte(base[:i], '-'); j > 0 {
					v := base[j+1:]
					// The source rpm name has no epoch; the binary's applies
					// (internal/ecosystem/rpm does the same).
					if e, _, hasEpoch := strings.Cut(version, ":"); hasEpoch {
						v = e + ":" + v
					}
					return &inventory.SourcePackage{Name: base[:j], Version: v}
				}
			}
		}
		return &inventory.SourcePackage{Name: base, Version: version}
	}
	name, v, ok := strings.Cut(upstream, "@")
	if !ok || v == "" {
		v = version
	}
	return &inventory.SourcePackage{Name: name, Version: v}
}
