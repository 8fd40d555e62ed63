package rpm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxManifestLine)
	var (
		pkgs     []inventory.Package
		warnings []string
		lineNo   int
		nonEmpty int
	)
	for sc.Scan() {
		lineNo++
		if lineNo%4096 == 0 && ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		nonEmpty++
		fields := strings.Split(line, "\t")
		if len(fields) < 10 || fields[0] == "" || fields[1] == "" {
			warnings = append(warnings, fmt.Sprintf("%s: line %d has %d fields, want 10; skipped", path, lineNo, len(fields)))
			continue
		}
		if len(pkgs) >= maxPackages {
			return nil, nil, fmt.Errorf("more than %d packages", maxPackages)
		}
		pkgs = append(pkgs, manifestPackage(fields, path))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("line %d longer than %d bytes", lineNo+1, maxManifestLine)
		}
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
