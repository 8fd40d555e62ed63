package policy

import (
	"net/url"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// purlRef is a package URL named by a VEX document: a package, or with type
// oci/docker an image.
type purlRef struct {
	typ, namespace, name, version string
	qualifiers                    map[string]string
}

func parsePURL(s string) (purlRef, bool) {
	if !strings.HasPrefix(strings.ToLower(s), "pkg:") {
		return purlRef{}, false
	}
	p, err := packageurl.FromString(s)
	if err != nil {
		return purlRef{}, false
	}
	return purlRef{
		typ: strings.ToLower(p.Type), namespace: p.Namespace, name: p.Name,
		version: p.Version, qualifiers: p.Qualifiers.Map(),
	}, true
}

func (p purlRef) isImage() bool { return p.typ == "oci" || p.typ == "docker" }

// matchImage reports whether an oci/docker purl names the scanned image:
// by digest when it has one, else by repository (and tag when given).
func (p purlRef) matchImage(v imageView) bool {
	switch p.typ {
	case "oci":
		// pkg:oci/<name>@<digest>?repository_url=<registry/path/name>&tag=<tag>
		if p.version != "" {
			return v.hasDigest(p.version)
		}
		repo := p.qualifiers["repository_url"]
		if repo == "" {
			return v.hasRepoNamed(p.name)
		}
		if tag := p.qualifiers["tag"]; tag != "" {
			return v.matchReference(repo + ":" + tag)
		}
		return v.hasRepo(repo)
	case "docker":
		// pkg:docker/<namespace>/<name>@<tag or digest>?repository_url=<registry>
		repo := p.name
		if p.namespace != "" {
			repo = p.namespace + "/" + repo
		}
		if reg := p.qualifiers["repository_url"]; reg != "" {
			repo = strings.TrimSuffix(reg, "/") + "/" + repo
		}
		switch {
		case strings.Contains(p.version, ":"):
			return v.hasDigest(p.version)
		case p.version != "":
			return v.matchReference(repo + ":" + p.version)
		}
		return v.hasRepo(repo)
	}
	return false
}

// matchPackage reports whether the purl names the finding's package. The
// version must be equal when the purl has one; qualifiers are compared only
// when both sides carry them (a VEX author rarely knows the distro
// qualifier of a scan). A distribution package also matches under its
// source package name (pkg:deb/debian/openssl for libssl3).
func (p purlRef) matchPackage(pkg vuln.PackageRef, parsed purlRef, ok bool) bool {
	if !ok || p.isImage() {
		return false
	}
	if p.typ != parsed.typ || !strings.EqualFold(p.namespace, parsed.namespace) {
		return false
	}
	for k, want := range p.qualifiers {
		if have, ok := parsed.qualifiers[k]; ok && have != want {
			return false
		}
	}
	if p.name == parsed.name && (p.version == "" || p.version == parsed.version) {
		return true
	}
	if pkg.Source != nil && pkg.Source.Name != "" && p.name == pkg.Source.Name {
		v := pkg.Source.Version
		if v == "" {
			v = parsed.version
		}
		return p.version == "" || p.version == v
	}
	return false
}

// purlBase strips qualifiers and subpath from a purl; withVersion=false also
// strips the version. Policy purl globs match against this form.
func purlBase(s string, withVersion bool) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if !withVersion {
		if i := strings.Index(s, "@"); i >= 0 {
			s = s[:i]
		}
	}
	return s
}

// matchPURLGlob matches a policy purl glob ("pkg:apk/alpine/openssl*",
// "pkg:golang/golang.org/x/**@v0.1.0") against a package purl, ignoring
// qualifiers; the version is compared only when the pattern has one.
func matchPURLGlob(g *glob, purl string) bool {
	if purl == "" {
		return false
	}
	base := purlBase(purl, strings.Contains(g.pattern, "@"))
	if g.match(base) {
		return true
	}
	if dec, err := url.PathUnescape(base); err == nil && dec != base {
		return g.match(dec)
	}
	return false
}
