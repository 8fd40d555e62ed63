package rpm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// ManifestPath is where CBL-Mariner / Azure Linux distroless images list
// their packages in place of an rpm database.
const ManifestPath = "var/lib/rpmmanifest/container-manifest-2"

const maxManifestLine = 64 << 10

func isManifest(path string) bool { return path == ManifestPath }

// parseManifest reads container-manifest-2: one package per line, tab
// separated: name, version-release, install time, build time, vendor,
// epoch ("(none)" or a number), size, arch, epoch number, source rpm.
// Short lines are skipped with a warning; a file with lines but no
// package at all is an error.
func parseManifest(ctx context.Context, r io.Reader, path string) ([]inventory.Package, []string, error) {
	var (
		pkgs     []inventory.Package
		warnings []string
		nonEmpty int
	)
	err := ecosystem.ScanLines(ctx, r, maxManifestLine, func(lineNo int, line string) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		nonEmpty++
		fields := strings.Split(line, "\t")
		if len(fields) < 10 || fields[0] == "" || fields[1] == "" {
			warnings = append(warnings, fmt.Sprintf("%s: line %d has %d fields, want 10; skipped", path, lineNo, len(fields)))
			return nil
		}
		if len(pkgs) >= maxPackages {
			return fmt.Errorf("more than %d packages", maxPackages)
		}
		pkgs = append(pkgs, manifestPackage(fields, path))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if nonEmpty > 0 && len(pkgs) == 0 {
		return nil, nil, errors.New("no line has the container-manifest-2 layout")
	}
	return pkgs, warnings, nil
}

func manifestPackage(fields []string, path string) inventory.Package {
	name, vr, arch, srpm := fields[0], fields[1], fields[7], fields[9]
	epoch, err := strconv.Atoi(fields[5])
	if err != nil || epoch < 0 {
		epoch = 0 // "(none)"
	}
	version, release, _ := strings.Cut(vr, "-")
	if i := strings.LastIndexByte(vr, '-'); i > 0 {
		version, release = vr[:i], vr[i+1:]
	}
	if arch == "(none)" {
		arch = ""
	}
	return inventory.Package{
		Name:    name,
		Version: evr(epoch, version, release),
		Type:    inventory.TypeRPM,
		PURL:    purl(name, version, release, arch, epoch),
		Source:  sourceOf(srpm, epoch),
		Path:    path,
		Arch:    arch,
	}
}
