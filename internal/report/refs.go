package report

import (
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// packageRefs gives every package a stable, unique reference (CycloneDX
// bom-ref, SPDX id seed) and maps findings to it. The purl alone is not
// unique: the same library can sit in two files of one image.
type packageRefs struct {
	packages []inventory.Package
	refs     []string
	byKey    map[string]string
}

func refKey(purl, path, name, version string) string {
	return purl + "\x00" + path + "\x00" + name + "\x00" + version
}

func newPackageRefs(ps []inventory.Package, fs []vuln.Finding) *packageRefs {
	pr := &packageRefs{byKey: map[string]string{}}
	pkgs := sortedPackages(ps)
	// Findings can name a package the inventory lacks (e.g. a report
	// assembled from several sources); list those as components too.
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[refKey(p.PURL, p.Path, p.Name, p.Version)] = true
	}
	for _, f := range sortedFindings(fs) {
		k := refKey(f.Package.PURL, f.Package.Path, f.Package.Name, f.Package.Version)
		if !seen[k] {
			seen[k] = true
			pkgs = append(pkgs, inventory.Package{
				Name: f.Package.Name, Version: f.Package.Version, Type: f.Package.Type,
				Ecosystem: f.Package.Ecosystem, PURL: f.Package.PURL, Path: f.Package.Path, Source: f.Package.Source,
			})
		}
	}
	count := map[string]int{}
	for _, p := range pkgs {
		count[baseRef(p)]++
	}
	used := map[string]int{}
	for _, p := range pkgs {
		k := refKey(p.PURL, p.Path, p.Name, p.Version)
		if _, dup := pr.byKey[k]; dup {
			continue // the same package declared twice in one file
		}
		ref := baseRef(p)
		if count[ref] > 1 && p.Path != "" {
			ref += "#" + p.Path
		}
		if n := used[ref]; n > 0 {
			used[ref]++
			ref += "#" + strconv.Itoa(n)
		} else {
			used[ref] = 1
		}
		pr.byKey[k] = ref
		pr.packages = append(pr.packages, p)
		pr.refs = append(pr.refs, ref)
	}
	return pr
}

func baseRef(p inventory.Package) string {
	if p.PURL != "" {
		return p.PURL
	}
	return "vigil:" + p.Type + "/" + p.Name + "@" + p.Version
}

func (pr *packageRefs) ref(p vuln.PackageRef) string {
	return pr.byKey[refKey(p.PURL, p.Path, p.Name, p.Version)]
}

// imagePURL is the image's pkg:oci purl when its digest is known.
func imagePURL(a inventory.Artifact) string {
	if a.Digest == "" || !strings.HasPrefix(a.Digest, "sha256:") {
		return ""
	}
	repo := a.Name
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	name := repo
	if i := strings.LastIndex(repo, "/"); i >= 0 {
		name = repo[i+1:]
	}
	name = strings.ToLower(name)
	if name == "" {
		return ""
	}
	var q packageurl.Qualifiers
	if repo != name {
		q = packageurl.QualifiersFromMap(map[string]string{"repository_url": repo})
	}
	return packageurl.NewPackageURL("oci", "", name, a.Digest, q, "").ToString()
}
