// Package osrelease owns operating-system detection: the analyzer that keeps
// os-release and the older release files from every layer, Detect that reads
// them from the merged filesystem, and the OSV distro ecosystem of an OS.
package osrelease

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// maxReleaseFile bounds a kept release file; real ones are a few hundred bytes.
const maxReleaseFile = 64 << 10

// releaseFiles are the files Detect reads, kept verbatim.
var releaseFiles = map[string]bool{
	"etc/os-release":      true,
	"usr/lib/os-release":  true,
	"etc/alpine-release":  true,
	"etc/debian_version":  true,
	"etc/redhat-release":  true,
	"etc/centos-release":  true,
	"etc/fedora-release":  true,
	"etc/system-release":  true,
	"etc/lsb-release":     true,
	"etc/SuSE-release":    true,
	"etc/photon-release":  true,
	"etc/mariner-release": true,
}

// shellPaths are kept as presence markers (empty content): an image with
// distro package metadata but none of them is distroless.
var shellPaths = map[string]bool{
	"bin/sh": true, "bin/bash": true, "bin/busybox": true, "bin/dash": true, "bin/ash": true,
	"usr/bin/sh": true, "usr/bin/bash": true, "usr/bin/busybox": true, "usr/bin/dash": true,
}

// Distroless package-metadata locations, kept as presence markers.
const (
	dpkgStatusDir   = "var/lib/dpkg/status.d/"
	marinerManifest = "var/lib/rpmmanifest/container-manifest-2"
)

// Analyzer returns the OS-detection analyzer.
func Analyzer() inventory.Analyzer { return analyzer{} }

type analyzer struct{}

func (analyzer) Name() string { return "osrelease" }
func (analyzer) Version() int { return 1 }

// FixedPaths are the release files and the distroless dpkg directory (the
// shells are markers at their real paths).
func (analyzer) FixedPaths() []string {
	paths := []string{dpkgStatusDir, marinerManifest}
	for p := range releaseFiles {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

func (analyzer) Claims(path string, mode fs.FileMode, size int64) bool {
	if releaseFiles[path] || shellPaths[path] || path == marinerManifest {
		return true
	}
	return strings.HasPrefix(path, dpkgStatusDir) && !strings.Contains(path[len(dpkgStatusDir):], "/")
}

func (analyzer) Analyze(_ context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if !releaseFiles[f.Path] {
		// A marker: only the path's presence matters, so the walk does
		// not keep shells or package databases in memory.
		out.AddFile(f.Path, []byte{})
		return nil
	}
	b, err := f.Bytes(maxReleaseFile)
	if err != nil {
		return fmt.Errorf("reading release file: %w", err)
	}
	out.AddFile(f.Path, b)
	return nil
}
