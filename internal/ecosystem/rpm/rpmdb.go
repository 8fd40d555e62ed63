// Package rpm owns RPM support: the cataloger of rpm databases (BerkeleyDB,
// NDB and SQLite, through go-rpmdb) and of the CBL-Mariner distroless
// container manifest.
package rpm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	"github.com/package-url/packageurl-go"

	// go-rpmdb opens SQLite databases through the "sqlite" database/sql
	// driver, which modernc.org/sqlite registers.
	_ "modernc.org/sqlite"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// dbPaths are the rpm database files, in the classic location and the
// /usr/lib/sysimage one that newer Fedora, SUSE and RHEL 10 use.
var dbPaths = map[string]bool{
	"var/lib/rpm/Packages":              true, // BerkeleyDB hash
	"var/lib/rpm/Packages.db":           true, // NDB (SUSE)
	"var/lib/rpm/rpmdb.sqlite":          true, // SQLite (RHEL 9, Fedora 33+, AL2023)
	"usr/lib/sysimage/rpm/Packages":     true,
	"usr/lib/sysimage/rpm/Packages.db":  true,
	"usr/lib/sysimage/rpm/rpmdb.sqlite": true,
}

// maxPackages bounds the packages taken from one database.
const maxPackages = 100_000

// Analyzers returns the RPM catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{dbAnalyzer{}, ecosystem.StreamCataloger{ID: "rpm-manifest", Match: isManifest, Parse: parseManifest}}
}

type dbAnalyzer struct{}

func (dbAnalyzer) Name() string { return "rpmdb" }

// Version 2: the owned file lists.
func (dbAnalyzer) Version() int { return 2 }

func (dbAnalyzer) FixedPaths() []string { return slices.Sorted(maps.Keys(dbPaths)) }

func (dbAnalyzer) Claims(path string, mode fs.FileMode, _ int64) bool {
	return dbPaths[path] && mode.IsRegular()
}

func (dbAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	// go-rpmdb only opens files by name.
	tmp, err := f.TempPath()
	if err != nil {
		return fmt.Errorf("rpmdb: %w", err)
	}
	pkgs, owned, err := readDatabase(ctx, tmp, f.Path)
	if err != nil {
		return fmt.Errorf("rpmdb: reading %s: %w", f.Path, err)
	}
	out.Packages = append(out.Packages, pkgs...)
	out.Owned = append(out.Owned, owned...)
	return nil
}

// readDatabase lists the packages of the rpm database at file (a local
// copy), reporting them under path, and each package's files that may
// declare a language package.
func readDatabase(ctx context.Context, file, path string) ([]inventory.Package, []inventory.OwnedFiles, error) {
	if strings.HasSuffix(path, ".sqlite") {
		if err := checkSQLite(ctx, file); err != nil {
			return nil, nil, err
		}
	}
	infos, err := listPackages(file)
	if err != nil {
		return nil, nil, err
	}
	if len(infos) > maxPackages {
		return nil, nil, fmt.Errorf("more than %d packages", maxPackages)
	}
	pkgs := make([]inventory.Package, 0, len(infos))
	var owned []inventory.OwnedFiles
	for _, info := range infos {
		if info == nil || info.Name == "" || info.Name == "gpg-pubkey" {
			// gpg-pubkey entries are imported signing keys, not software.
			continue
		}
		if info.Version == "" {
			continue
		}
		pkgs = append(pkgs, fromInfo(info, path))
		if files := ownableFiles(info); len(files) > 0 {
			owned = append(owned, inventory.OwnedFiles{Path: path, Owner: inventory.Owner{Type: inventory.TypeRPM, Name: info.Name}, Files: files})
		}
	}
	return pkgs, owned, nil
}

// isDir reports whether the package's i-th file is a directory (an
// .egg-info directory holding PKG-INFO, not a distutils .egg-info file).
func isDir(info *rpmdb.PackageInfo, i int) bool {
	return i < len(info.FileModes) && info.FileModes[i]&0o170000 == 0o040000
}

// ownableFiles returns the package's files that may declare a language
// package. The header stores each path as a base name and an index into
// the directory names; the base name is tested before the path is joined
// (PackageInfo.InstalledFiles would build every path of every package).
// Out-of-range indexes of a malformed header are skipped.
func ownableFiles(info *rpmdb.PackageInfo) []string {
	var files []string
	for i, base := range info.BaseNames {
		if !inventory.OwnableBase(base) || isDir(info, i) {
			continue
		}
		if i >= len(info.DirIndexes) {
			break
		}
		d := int(info.DirIndexes[i])
		if d < 0 || d >= len(info.DirNames) {
			continue
		}
		files = inventory.KeepOwnable(files, info.DirNames[d]+base)
		if len(files) >= inventory.MaxOwnedFiles {
			break
		}
	}
	return files
}

// listPackages calls go-rpmdb, turning a panic on malformed headers into
// an error. Known limits of go-rpmdb v0.1.1, kept because no other pure-Go
// reader covers all three formats: it reads pages in a goroutine of its
// own, so a panic there cannot be recovered here (FuzzReadDatabase found
// none), and when a header in the middle of a database is malformed that
// goroutine stays blocked after ListPackages returns (one leaked goroutine
// per such file).
func listPackages(file string) (infos []*rpmdb.PackageInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			infos, err = nil, fmt.Errorf("malformed rpm database: %v", r)
		}
	}()
	db, err := rpmdb.Open(file)
	if err != nil {
		return nil, fmt.Errorf("opening: %w", err)
	}
	defer db.Close()
	infos, err = db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("listing packages: %w", err)
	}
	return infos, nil
}

// checkSQLite verifies that a SQLite file holds rpm's Packages table with
// a non-null blob in every row. go-rpmdb leaves a goroutine blocked forever
// when its query or a row scan fails, so those cases must not reach it.
func checkSQLite(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: file}).EscapedPath()+"?mode=ro")
	if err != nil {
		return fmt.Errorf("opening sqlite: %w", err)
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'Packages'").Scan(&n)
	if err != nil {
		return fmt.Errorf("not an rpm sqlite database: %w", err)
	}
	if n == 0 {
		return errors.New("not an rpm sqlite database: no Packages table")
	}
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM Packages WHERE blob IS NULL").Scan(&n)
	if err != nil {
		return fmt.Errorf("not an rpm sqlite database: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("rpm sqlite database: %d packages without a header blob", n)
	}
	return nil
}

func fromInfo(info *rpmdb.PackageInfo, path string) inventory.Package {
	epoch := info.EpochNum()
	version := evr(epoch, info.Version, info.Release)
	arch := info.Arch
	if arch == "(none)" {
		arch = ""
	}
	p := inventory.Package{
		Name:    info.Name,
		Version: version,
		Type:    inventory.TypeRPM,
		PURL:    purl(info.Name, info.Version, info.Release, arch, epoch),
		Source:  sourceOf(info.SourceRpm, epoch),
		Path:    path,
		Arch:    arch,
	}
	if l := strings.TrimSpace(info.License); l != "" {
		p.Licenses = []string{l}
	}
	if info.Modularitylabel != "" {
		// RHEL module streams change which advisories apply.
		p.Metadata = map[string]string{"rpm.modularitylabel": info.Modularitylabel}
	}
	return p
}

// evr formats [epoch:]version-release, leaving out a zero epoch as rpm does.
func evr(epoch int, version, release string) string {
	v := version
	if release != "" {
		v += "-" + release
	}
	if epoch > 0 {
		v = strconv.Itoa(epoch) + ":" + v
	}
	return v
}

// sourceOf parses a SOURCERPM value ("openssl-1.1.1k-15.cm2.src.rpm") into
// the source package name and [epoch:]version-release; the source rpm name
// carries no epoch, so the binary's is used.
func sourceOf(sourceRPM string, epoch int) *inventory.SourcePackage {
	base, ok := strings.CutSuffix(sourceRPM, ".src.rpm")
	if !ok {
		base, ok = strings.CutSuffix(sourceRPM, ".nosrc.rpm")
	}
	if !ok {
		return nil
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return nil
	}
	j := strings.LastIndexByte(base[:i], '-')
	if j <= 0 {
		return nil
	}
	return &inventory.SourcePackage{Name: base[:j], Version: evr(epoch, base[j+1:i], base[i+1:])}
}

// purl follows the purl spec's rpm examples: version-release as the
// version, epoch and arch as qualifiers. The vendor namespace is not known
// from the database alone, so "redhat" is used.
func purl(name, version, release, arch string, epoch int) string {
	q := map[string]string{}
	if arch != "" {
		q["arch"] = arch
	}
	if epoch > 0 {
		q["epoch"] = strconv.Itoa(epoch)
	}
	v := version
	if release != "" {
		v += "-" + release
	}
	return packageurl.NewPackageURL(packageurl.TypeRPM, "redhat", name, v, packageurl.QualifiersFromMap(q), "").ToString()
}
