// Package java catalogs Maven artifacts inside Java archives (jar, war, ear,
// par, jpi, hpi): each pom.properties file, else the archive's
// MANIFEST.MF, else its file name, recursing into archives nested inside
// archives (fat jars, WEB-INF/lib, BOOT-INF/lib) within fixed bounds.
//
// Package.Name is "groupId:artifactId", the key Maven advisories use; when
// only a manifest or a file name identifies the archive the group may be a
// guess or missing (Metadata "java.source" says which evidence was used).
package java

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// Limits that keep a crafted archive (zip bomb, deep nesting, millions of
// entries) from exhausting memory or time.
const (
	// maxDepth is how many archives deep nested archives are opened.
	maxDepth = 4
	// maxNestedBytes bounds one nested archive, which is held in memory.
	maxNestedBytes = 64 << 20
	// maxTotalBytes bounds all the bytes decompressed from one archive,
	// nested ones included.
	maxTotalBytes = 256 << 20
	// maxMetadataBytes bounds one pom.properties or MANIFEST.MF.
	maxMetadataBytes = 1 << 20
	// maxEntries bounds the entries of one archive; the largest real fat
	// jars hold around 100k.
	maxEntries = 500_000
	// maxPackages bounds the packages found in one archive.
	maxPackages = 50_000
)

// Analyzers returns the Java archive cataloger.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{archiveAnalyzer{}}
}

type archiveAnalyzer struct{}

func (archiveAnalyzer) Name() string { return "java-archive" }
func (archiveAnalyzer) Version() int { return 1 }

func (archiveAnalyzer) Claims(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size > 0 && IsArchiveName(p)
}

// IsArchiveName reports whether a file name has a Java archive extension.
func IsArchiveName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jar", ".war", ".ear", ".par", ".jpi", ".hpi":
		return true
	}
	return false
}

func (archiveAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ra, size, err := f.ReaderAt()
	if err != nil {
		return fmt.Errorf("java-archive: reading %s: %w", f.Path, err)
	}
	pkgs, warnings, err := Scan(ctx, f.Path, ra, size)
	if err != nil {
		return fmt.Errorf("java-archive: %s: %w", f.Path, err)
	}
	out.Packages = append(out.Packages, pkgs...)
	out.Warnings = append(out.Warnings, warnings...)
	return nil
}

// artifact is one Maven artifact identified inside an archive.
type artifact struct {
	group, name, version string
	licenses             []string
	source               string // "pom.properties", "manifest", "filename"
}

func (a artifact) key() string {
	if a.group == "" {
		return a.name
	}
	return a.group + ":" + a.name
}

// toPackage places an artifact found at nested (the "a.jar!/b.jar" path
// inside the on-disk archive, "" for the archive itself) in the file at p.
func (a artifact) toPackage(p, nested string) inventory.Package {
	meta := map[string]string{"java.source": a.source}
	if nested != "" {
		meta["java.nested"] = nested
	}
	if a.group != "" {
		meta["maven.groupId"] = a.group
	}
	meta["maven.artifactId"] = a.name
	return inventory.Package{
		Name:      a.key(),
		Version:   a.version,
		Type:      inventory.TypeMaven,
		Ecosystem: ecosystem.Maven,
		PURL:      packageurl.NewPackageURL(packageurl.TypeMaven, a.group, a.name, a.version, nil, "").ToString(),
		Path:      p,
		Licenses:  a.licenses,
		Metadata:  meta,
	}
}
