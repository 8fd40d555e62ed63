// Package inventory owns the data types that describe what is inside an image:
// packages, the layers that brought them, the operating system, and the
// interface that catalogers implement to find packages in layer files.
package inventory

// SchemaVersion is the version of Vigil's own JSON inventory schema
// (docs/schema.md). Bump the minor for additions, the major for breaking changes.
const SchemaVersion = "1.0.0"

// Package types: the purl type of the package, which also decides the
// cataloger that found it and the version rules that apply to it.
const (
	TypeApk      = "apk"
	TypeDeb      = "deb"
	TypeRPM      = "rpm"
	TypeGolang   = "golang"
	TypePyPI     = "pypi"
	TypeNPM      = "npm"
	TypeMaven    = "maven"
	TypeCargo    = "cargo"
	TypeNuGet    = "nuget"
	TypeGem      = "gem"
	TypeComposer = "composer"
)

// Package is one installed piece of software.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Type is the purl type (TypeApk, TypePyPI, ...).
	Type string `json:"type"`
	// Ecosystem is the OSV ecosystem the package is matched in: "Go", "PyPI",
	// "npm", "Maven", "crates.io", "NuGet", "RubyGems", "Packagist" for
	// language packages; for OS packages the distro release, e.g.
	// "Alpine:v3.10", "Debian:12", "AlmaLinux:9", filled in by image.Read
	// once the OS is known (osrelease.Ecosystem). Empty for OS packages of
	// an unknown distro.
	Ecosystem string `json:"ecosystem"`
	PURL      string `json:"purl"`
	// Source is the source package an OS package was built from (Debian
	// Source:, Alpine origin, rpm SOURCERPM). Distro feeds are keyed by it.
	Source *SourcePackage `json:"source,omitempty"`
	// Path is the file that declared the package, relative to the image root.
	Path     string   `json:"path"`
	Licenses []string `json:"licenses,omitempty"`
	Arch     string   `json:"arch,omitempty"`
	// Layer is where the package was introduced or last changed.
	Layer *LayerRef `json:"layer,omitempty"`
	// Owner is the OS package that installed this language package, when
	// its declaring file is in that package's file list (AssignOwners).
	Owner *Owner `json:"owner,omitempty"`
	// Metadata holds cataloger-specific facts (e.g. "go.toolchain",
	// "maven.groupId", "npm.dev"); kept small and string-valued.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// SourcePackage names the source a binary OS package was built from.
type SourcePackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// LayerRef attributes a package (or a file) to a layer of the image.
type LayerRef struct {
	Index     int    `json:"index"`
	DiffID    string `json:"diff_id"`
	Digest    string `json:"digest,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
	// Base is true when the layer belongs to the base image.
	Base bool `json:"base"`
}

// Key identifies a package independent of the layer it came from.
func (p Package) Key() string {
	return p.Type + "\x00" + p.Path + "\x00" + p.Name + "\x00" + p.Version
}

// IsOS reports whether the package is managed by the distribution's package manager.
func (p Package) IsOS() bool {
	return p.Type == TypeApk || p.Type == TypeDeb || p.Type == TypeRPM
}
