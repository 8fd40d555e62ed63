// Package version owns version ordering: one Comparator per ecosystem's
// rules (dpkg, apk, rpm, PEP 440, Maven, node-semver, Go, RubyGems, ...),
// chosen by OSV ecosystem name or by the short names the CLI accepts.
// Comparators refuse versions that do not parse under their rules instead of
// guessing an order for them.
package version

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
)

// Comparator orders versions under one ecosystem's rules. Compare returns
// -1, 0 or +1, or an error when either version is invalid under the rules.
// Implementations are stateless and safe for concurrent use.
type Comparator interface {
	Compare(a, b string) (int, error)
}

// ErrInvalid is wrapped by every error about a version that does not parse.
var ErrInvalid = errors.New("invalid version")

// ErrUnknownEcosystem is returned by For for names it does not know.
var ErrUnknownEcosystem = errors.New("unknown ecosystem")

// maxVersionLen caps the input size: real versions are short, and a cap
// keeps hostile inputs from costing unbounded time.
const maxVersionLen = 256

func invalid(kind, v, why string) error {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Errorf("%w %q under %s rules: %s", ErrInvalid, v, kind, why)
}

// Comparators, shared: they hold no state.
var (
	dpkgCmp      Comparator = Dpkg{}
	apkCmp       Comparator = Apk{}
	rpmCmp       Comparator = RPM{}
	goCmp        Comparator = Go{}
	pep440Cmp    Comparator = PEP440{}
	mavenCmp     Comparator = Maven{}
	npmCmp       Comparator = SemVer{Loose: true}
	semverCmp    Comparator = SemVer{}
	rubyCmp      Comparator = RubyGems{}
	nugetCmp     Comparator = NuGet{}
	packagistCmp Comparator = Packagist{}
	pubCmp       Comparator = Pub{}
)

// byName maps OSV ecosystem bases and CLI names (lower case) to comparators.
var byName = map[string]Comparator{
	// CLI names.
	"apk": apkCmp, "deb": dpkgCmp, "dpkg": dpkgCmp, "rpm": rpmCmp,
	"pypi": pep440Cmp, "pep440": pep440Cmp, "python": pep440Cmp,
	"maven": mavenCmp, "npm": npmCmp, "cargo": semverCmp, "nuget": nugetCmp,
	"rubygems": rubyCmp, "gem": rubyCmp, "go": goCmp, "golang": goCmp,
	"packagist": packagistCmp, "composer": packagistCmp, "hex": semverCmp,
	"pub": pubCmp, "semver": semverCmp,
	// OSV ecosystems (lower-cased base names).
	"crates.io": semverCmp, "alpine": apkCmp, "wolfi": apkCmp, "chainguard": apkCmp,
	"alpaquita": apkCmp, "minimos": apkCmp, "bellsoft hardened containers": apkCmp,
	"debian": dpkgCmp, "ubuntu": dpkgCmp,
	"almalinux": rpmCmp, "rocky linux": rpmCmp, "red hat": rpmCmp, "redhat": rpmCmp,
	"amazon linux": rpmCmp, "suse": rpmCmp, "opensuse": rpmCmp, "openeuler": rpmCmp,
	"mageia": rpmCmp, "centos": rpmCmp, "fedora": rpmCmp, "oracle linux": rpmCmp,
	"oracle": rpmCmp, "azure linux": rpmCmp, "cbl-mariner": rpmCmp, "photon os": rpmCmp,
	"rhel": rpmCmp, "rocky": rpmCmp, "amazon": rpmCmp, "sles": rpmCmp,
}

// For returns the comparator for an OSV ecosystem ("PyPI", "Debian:12",
// "Alpine:v3.10", "Red Hat:enterprise_linux:9") or a CLI name ("deb", "pypi",
// "cargo", ...). Names are matched case-insensitively.
func For(eco string) (Comparator, error) {
	base := strings.ToLower(strings.TrimSpace(ecosystem.Base(eco)))
	if c, ok := byName[base]; ok {
		return c, nil
	}
	// OSV spells some distros with a product suffix ("Red Hat Enterprise
	// Linux", "SUSE Linux Enterprise Server").
	for _, p := range []string{"red hat", "suse", "opensuse", "amazon linux", "oracle linux"} {
		if strings.HasPrefix(base, p) {
			return rpmCmp, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownEcosystem, eco)
}

// compareParsed parses both versions, refusing either when it does not
// parse, and orders them with cmp.
func compareParsed[V any](parse func(string) (V, error), cmp func(a, b V) int, a, b string) (int, error) {
	va, err := parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := parse(b)
	if err != nil {
		return 0, err
	}
	return cmp(va, vb), nil
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
