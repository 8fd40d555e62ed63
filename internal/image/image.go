// Package image owns reading a container image: resolving a reference
// (registry, docker-archive, oci-layout, oci-archive, dir), walking every
// layer's tar stream once with the analyzers, the per-layer result cache,
// merging layers with whiteout semantics, and attributing packages to the
// layer (and base image) that introduced them.
package image

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/osrelease"
)

// Errors a caller can test for with errors.Is.
var (
	// ErrLayerTooLarge: a layer's uncompressed size passed Options.MaxLayerBytes.
	ErrLayerTooLarge = errors.New("layer exceeds the uncompressed size limit")
	// ErrTooManyEntries: a layer has more tar entries than Options.MaxEntries.
	ErrTooManyEntries = errors.New("layer exceeds the tar entry limit")
	// ErrUnsafePath: an archive entry would land outside its root.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrUnsupportedMediaType: a layer's media type is not a filesystem layer.
	ErrUnsupportedMediaType = errors.New("unsupported layer media type")
	// ErrArchiveTooLarge: an archive expands beyond what Read will spill to disk.
	ErrArchiveTooLarge = errors.New("archive exceeds the size limit")
	// ErrNoMatchingPlatform: an index has no image for the requested platform.
	ErrNoMatchingPlatform = errors.New("no image for the requested platform")
)

// Defaults for the zero Options.
const (
	DefaultMaxLayerBytes = 16 << 30
	DefaultMaxFileBytes  = inventory.DefaultMaxFileSize
	DefaultMaxEntries    = 5_000_000
	DefaultConcurrency   = 2
	DefaultPlatform      = "linux/amd64"
)

// Options tune how an image is fetched and read. The zero value is usable.
type Options struct {
	Username, Password string // registry basic auth; else docker config / credential helpers (authn.DefaultKeychain)
	Insecure           bool   // plain-HTTP registry (name.Insecure)
	Platform           string // "linux/arm64" etc. to pick from an index; default linux/amd64 then first entry
	CacheDir           string // per-layer result cache; "" = no cache
	NoCache            bool
	CacheMaxBytes      int64  // layer cache size cap, least recently used entries evicted first (default 2 GiB; negative: no cap)
	TempDir            string // where big claimed files may spill; default os.TempDir()
	MaxLayerBytes      int64  // uncompressed bytes per layer before aborting with ErrLayerTooLarge (default 16 GiB); decompression-bomb guard
	MaxFileBytes       int64  // largest claimed file read (default 512 MiB); larger ones are skipped with a warning
	MaxEntries         int64  // tar entries per layer (default 5,000,000)
	Concurrency        int    // layers analyzed at once (default 2)
	// SkipDirs and SkipFiles are pathglob patterns (--skip-dirs,
	// --skip-files): matching files are never read.
	SkipDirs, SkipFiles []string
	// Progress, when set, counts layers, bytes and packages as they are
	// read (see Progress).
	Progress *Progress
	Logger   *slog.Logger
	// Sources a bare reference is looked for in, in order: "docker",
	// "podman", "containerd", "remote" (the default, Trivy's order).
	Sources             []string
	ContainerdNamespace string              // default "default"
	Getenv              func(string) string // daemon addresses (DOCKER_HOST...); default os.Getenv

	// Auth, when set, is the only registry credential used (not Username,
	// Password or the keychain): the server pulls with what a caller such
	// as Harbor handed over, never with its own configured credentials.
	Auth authn.Authenticator

	skip *skipRules // compiled SkipDirs and SkipFiles
}

func (o Options) withDefaults() Options {
	if o.MaxLayerBytes <= 0 {
		o.MaxLayerBytes = DefaultMaxLayerBytes
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.CacheMaxBytes == 0 {
		o.CacheMaxBytes = DefaultCacheMaxBytes
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.Sources == nil {
		o.Sources = DefaultSources
	}
	if o.ContainerdNamespace == "" {
		o.ContainerdNamespace = "default"
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Read resolves ref, walks every layer once with the analyzers, merges and attributes. ref syntax:
//
//	registry reference by default ("alpine:3.20", "host:5000/repo@sha256:..."),
//	"docker-archive:PATH" (docker save tar, gzipped or not), "oci-layout:DIR",
//	"oci-archive:PATH" (OCI layout inside a tar, gz or not), "dir:PATH" (unpacked
//	rootfs: walked like one layer, symlinks never followed out of the root),
//	"docker:REF", "podman:REF", "containerd:REF" (a local daemon's image), or
//	a bare path, whose content says which of the file formats it is.
//	A bare reference is looked for in opts.Sources in order (local daemons,
//	then the registry).
//
// The OS detector (osrelease.Analyzer) always runs, whether listed or not.
func Read(ctx context.Context, ref string, analyzers []inventory.Analyzer, opts Options) (*inventory.Inventory, error) {
	opts = opts.withDefaults()
	skip, err := compileSkips(opts.SkipDirs, opts.SkipFiles)
	if err != nil {
		return nil, err
	}
	opts.skip = skip
	analyzers = withOSRelease(analyzers)
	// A bare path to a root filesystem is read like dir:PATH (local.go).
	if path, ok := strings.CutPrefix(ref, "dir:"); ok || isRootFSDir(ref) {
		if !ok {
			path = ref
		}
		inv, err := readDir(ctx, ref, path, analyzers, opts)
		if err != nil {
			return nil, schemeHint(ctx, ref, err, opts)
		}
		inv.Artifact.Source = "dir"
		return inv, nil
	}
	src, err := Open(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	defer src.Close()

	results, err := analyzeLayers(ctx, src, analyzers, opts)
	if err != nil {
		return nil, err
	}
	results, linkWarnings, err := resolveLowerLinks(ctx, src, analyzers, results, opts)
	if err != nil {
		return nil, err
	}
	src.Warnings = append(src.Warnings, linkWarnings...)
	fixed := fixedPaths(analyzers)
	inv, fs := merge(src.Artifact.Layers, results, fixed)
	// Fixed paths behind a symlink to a file no analyzer claimed: read
	// those files (cached after the first scan) and merge again.
	aliases, warnings := findAliases(fs, analyzers)
	src.Warnings = append(src.Warnings, warnings...)
	if len(aliases) > 0 {
		opts.Logger.Debug("reading files behind symlinks", "aliases", aliases)
		extra, err := readAliases(ctx, src, analyzers, aliases, opts)
		if err != nil {
			return nil, err
		}
		inv, _ = merge(src.Artifact.Layers, withAliases(results, extra), fixed)
	}
	inv.Artifact = src.Artifact
	inv.UnredactedConfig = src.unredactedConfig
	inv.Warnings = append(src.Warnings, inv.Warnings...)
	finish(inv)
	return inv, nil
}

// withOSRelease appends the OS detector unless the caller already runs it.
func withOSRelease(analyzers []inventory.Analyzer) []inventory.Analyzer {
	os := osrelease.Analyzer()
	for _, a := range analyzers {
		if a.Name() == os.Name() {
			return analyzers
		}
	}
	return append(append([]inventory.Analyzer(nil), analyzers...), os)
}

// analyze runs one analyzer on one file, turning errors and panics into
// warnings: a broken package database must not stop the scan.
func analyze(ctx context.Context, a inventory.Analyzer, f *inventory.File, out *inventory.LayerResult) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("analyzer %s panicked: %v", a.Name(), r)
		}
	}()
	return a.Analyze(ctx, f, out)
}
