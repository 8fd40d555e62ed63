package inventory

import (
	"strings"
)

// Owner names the OS package that installed a language package: a Python
// distribution from python3-*.deb, an npm module from an apk. The
// distribution patches such files in place, so its advisories, not the
// language ecosystem's, decide the package's vulnerabilities.
type Owner struct {
	// Type is the OS package's type: TypeDeb, TypeApk or TypeRPM.
	Type string `json:"type"`
	Name string `json:"name"`
}

// OwnedFiles are the files of one OS package that may declare a language
// package (OwnableFile), as its package manager lists them. Path is the
// package-manager file the list came from (a dpkg .list, the apk
// database, the rpm database), so a layer that replaces or deletes that
// file replaces or drops the list, as it does packages.
type OwnedFiles struct {
	Path  string   `json:"path"`
	Owner Owner    `json:"owner"`
	Files []string `json:"files"`
}

// OwnableFile reports whether path (relative to the image root, no leading
// slash) may be the file a language cataloger declares an installed package
// by: only those are kept from OS package file lists, which hold thousands
// of other paths. The test is on the base name first, so it is cheap.
func OwnableFile(path string) bool {
	dir, base := splitPath(path)
	if !OwnableBase(base) {
		return false
	}
	_, parent := splitPath(dir)
	switch base {
	case "METADATA":
		return strings.HasSuffix(parent, ".dist-info")
	case "PKG-INFO":
		return strings.HasSuffix(parent, ".egg-info") || parent == "EGG-INFO"
	case "package.json":
		return strings.Contains(dir, "node_modules/")
	case "installed.json":
		return parent == "composer"
	}
	return true
}

// ownableSuffixes end the names of files that declare packages wherever
// they are: distutils .egg-info files, gemspecs, Java archives, .NET deps.
var ownableSuffixes = []string{".egg-info", ".gemspec", ".jar", ".war", ".ear", ".deps.json"}

// OwnableBase is OwnableFile's test on the base name alone: when it is
// false no path ending in base is ownable, so a package manager's list can
// be filtered before its paths are joined.
func OwnableBase(base string) bool {
	switch base {
	case "METADATA", "PKG-INFO", "package.json", "installed.json":
		return true
	}
	for _, ext := range ownableSuffixes {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

func splitPath(p string) (dir, base string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

// MaxOwnedFiles bounds the ownable files of one OS package: real packages
// have a few hundred at most (a Java or Node.js bundle).
const MaxOwnedFiles = 100_000

// KeepOwnable appends to files the ownable paths among the listed ones,
// without their leading slash. Package managers write absolute paths
// (dpkg, rpm) or relative ones (apk); inventory paths are relative.
func KeepOwnable(files []string, path string) []string {
	path = strings.TrimLeft(path, "/")
	if OwnableFile(path) {
		files = append(files, path)
	}
	return files
}

// AssignOwners sets Owner on each language package whose declaring file is
// in an OS package's file list, when that OS package is installed (listed
// in pkgs): a dpkg .list left behind by a removed package names no owner.
// A file listed by two OS packages goes to the first list in order.
func AssignOwners(pkgs []Package, owned []OwnedFiles) {
	if len(owned) == 0 {
		return
	}
	installed := map[Owner]bool{}
	for _, p := range pkgs {
		if p.IsOS() {
			installed[Owner{Type: p.Type, Name: p.Name}] = true
		}
	}
	byFile := map[string]Owner{}
	for _, o := range owned {
		if !installed[o.Owner] {
			continue
		}
		for _, f := range o.Files {
			if _, ok := byFile[f]; !ok {
				byFile[f] = o.Owner
			}
		}
	}
	if len(byFile) == 0 {
		return
	}
	for i := range pkgs {
		p := &pkgs[i]
		if p.IsOS() {
			continue
		}
		if o, ok := byFile[p.Path]; ok {
			p.Owner = &Owner{Type: o.Type, Name: o.Name}
		}
	}
}

// MergePythonMetadata makes one package of the .dist-info and .egg-info
// of one installed distribution: both in the same directory, for the same
// normalised name and version (a distro package that ships both, or pip
// metadata written over a distutils install). The .dist-info is kept; it
// takes the other's owner and licenses when it has none.
func MergePythonMetadata(pkgs []Package) []Package {
	type key struct{ dir, name, version string }
	first := map[key]int{}
	drop := map[int]bool{}
	for i := range pkgs {
		p := &pkgs[i]
		if p.Type != TypePyPI {
			continue
		}
		dir, distInfo, ok := installedMetadataDir(p.Path)
		if !ok {
			continue
		}
		k := key{dir, normalizePyPI(p.Name), p.Version}
		j, seen := first[k]
		if !seen {
			first[k] = i
			continue
		}
		keep, other := j, i
		if distInfo {
			keep, other = i, j
			first[k] = i
		}
		k2, o := &pkgs[keep], pkgs[other]
		if k2.Owner == nil {
			k2.Owner = o.Owner
		}
		if len(k2.Licenses) == 0 {
			k2.Licenses = o.Licenses
		}
		drop[other] = true
	}
	if len(drop) == 0 {
		return pkgs
	}
	out := pkgs[:0]
	for i, p := range pkgs {
		if !drop[i] {
			out = append(out, p)
		}
	}
	return out
}

// installedMetadataDir returns the directory holding an installed
// distribution's metadata (site-packages) and whether the metadata is a
// .dist-info; ok is false for paths that are not installed metadata
// (requirements files, lockfiles, archives, eggs).
func installedMetadataDir(path string) (dir string, distInfo, ok bool) {
	d, base := splitPath(path)
	switch {
	case base == "METADATA" && strings.HasSuffix(d, ".dist-info"):
		dir, _ = splitPath(d)
		return dir, true, true
	case base == "PKG-INFO" && strings.HasSuffix(d, ".egg-info"):
		dir, _ = splitPath(d)
		return dir, false, true
	case strings.HasSuffix(base, ".egg-info"):
		return d, false, true
	}
	return "", false, false
}

// normalizePyPI is PEP 503 normalisation (ecosystem.NormalizeName, which
// this package cannot import).
func normalizePyPI(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}
