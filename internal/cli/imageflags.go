package cli

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"github.com/vigil-scan/vigil/internal/image"
)

// imageFlags are how every scanning command reaches an image.
type imageFlags struct {
	Username, Password string
	Insecure           bool
	Platform           string
	CacheDir           string
	NoCache            bool
	CacheMaxSize       string
	MaxLayerSize       int64
	Sources            []string
	ContainerdNS       string
}

const refHelp = `REF is a registry reference (alpine:3.20, host:5000/repo@sha256:...),
docker-archive:PATH (docker save tar, gzipped or not), oci-layout:DIR,
oci-archive:PATH, dir:PATH (an unpacked root filesystem), or an image in a
local daemon: docker:REF (DOCKER_HOST, else the current docker context),
podman:REF (CONTAINER_HOST, else Podman's API socket), containerd:REF
(CONTAINERD_ADDRESS, else /run/containerd/containerd.sock; namespace
--containerd-namespace, k8s.io on Kubernetes nodes). A bare PATH is read
as what its content is; a bare REF is looked for in the local daemons
first, then the registry (--image-src), and the scan says which it used
(artifact.source).`

func (f *imageFlags) register(cmd *cobra.Command, app *App) {
	fl := cmd.Flags()
	fl.StringVar(&f.Username, "username", app.Getenv("VIGIL_USERNAME"), "registry user (VIGIL_USERNAME; default: docker config and credential helpers)")
	fl.StringVar(&f.Password, "password", app.Getenv("VIGIL_PASSWORD"), "registry password or token (VIGIL_PASSWORD)")
	fl.BoolVar(&f.Insecure, "insecure-registry", false, "talk plain HTTP to the registry")
	fl.StringVar(&f.Platform, "platform", "", "platform to pick from a multi-arch index, os/arch[/variant] (default linux/amd64)")
	fl.StringVar(&f.CacheDir, "cache-dir", app.Getenv("VIGIL_CACHE_DIR"), "layer result cache (VIGIL_CACHE_DIR; default <user cache>/vigil)")
	fl.BoolVar(&f.NoCache, "no-cache", false, "do not read or write the layer cache")
	fl.StringVar(&f.CacheMaxSize, "cache-max-size", cmp.Or(app.Getenv("VIGIL_CACHE_MAX_SIZE"), "2GiB"),
		"layer cache size cap; least recently used layers are evicted first (VIGIL_CACHE_MAX_SIZE; e.g. 500MB, 10GiB, unlimited)")
	fl.StringSliceVar(&f.Sources, "image-src", image.DefaultSources, "where a bare REF is looked for, in order: docker, podman, containerd, remote (e.g. --image-src remote to skip the daemons)")
	fl.StringVar(&f.ContainerdNS, "containerd-namespace", cmp.Or(app.Getenv("CONTAINERD_NAMESPACE"), "default"), "containerd namespace for containerd:REF (CONTAINERD_NAMESPACE)")
	fl.Int64Var(&f.MaxLayerSize, "max-layer-size", image.DefaultMaxLayerBytes, "abort when a layer decompresses to more bytes than this (decompression-bomb guard)")
}

// validate rejects flag values that would otherwise fall back to a default
// without a word.
func (f *imageFlags) validate() error {
	if f.MaxLayerSize <= 0 {
		return fmt.Errorf("--max-layer-size %d: must be a positive number of bytes", f.MaxLayerSize)
	}
	if _, err := cacheMaxBytes(f.CacheMaxSize); err != nil {
		return err
	}
	if len(f.Sources) == 0 {
		return fmt.Errorf("--image-src: name at least one of docker, podman, containerd, remote")
	}
	for _, s := range f.Sources {
		if !image.ValidSource(s) {
			return fmt.Errorf("--image-src %q: want docker, podman, containerd or remote", s)
		}
	}
	return nil
}

// cacheMaxBytes parses --cache-max-size: a size with an optional unit
// (KB, MiB, GiB ...) or "unlimited" (-1 for image.Options).
func cacheMaxBytes(s string) (int64, error) {
	if s == "unlimited" {
		return -1, nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n == 0 || n > math.MaxInt64 {
		return 0, fmt.Errorf("--cache-max-size %q: want a positive size such as 500MB or 2GiB, or unlimited", s)
	}
	return int64(n), nil
}

func (f *imageFlags) options(app *App) image.Options {
	cacheMax, _ := cacheMaxBytes(f.CacheMaxSize) // validated
	cache := f.CacheDir
	if cache == "" {
		cache = defaultCacheDir()
	}
	return image.Options{
		Username:      f.Username,
		Password:      f.Password,
		Insecure:      f.Insecure,
		Platform:      f.Platform,
		CacheDir:      cache,
		NoCache:       f.NoCache || cache == "",
		CacheMaxBytes: cacheMax,
		MaxLayerBytes: f.MaxLayerSize,
		Logger:        app.Logger,
		Sources:       f.Sources,
		Getenv:        app.Getenv,

		ContainerdNamespace: f.ContainerdNS,
	}
}

// defaultCacheDir is <user cache>/vigil, or "" when the user has no
// cache directory (then caching is off rather than written somewhere odd).
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "vigil")
}
