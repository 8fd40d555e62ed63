package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-scan/vigil/internal/urlcred"
)

// DefaultSources is where a bare reference is looked for, in order: the
// local daemons first, as Trivy does, so an image built on this machine is
// scanned as built, then the registry.
var DefaultSources = []string{"docker", "podman", "containerd", "remote"}

// ValidSource reports whether s names a source for Options.Sources.
func ValidSource(s string) bool {
	switch s {
	case "docker", "podman", "containerd", "remote":
		return true
	}
	return false
}

// openOther opens the references Open's switch does not: the daemon
// schemes, bare paths (by content) and bare references (opts.Sources).
func openOther(ctx context.Context, ref string, opts Options) (*Source, error) {
	if kind, rest, ok := strings.Cut(ref, ":"); ok {
		switch kind {
		case "docker":
			return openDocker(ctx, rest, opts)
		case "podman":
			return openPodman(ctx, rest, opts)
		case "containerd":
			return openContainerd(ctx, rest, opts)
		}
	}
	if looksLikePath(ref) {
		return openPath(ctx, ref, opts)
	}
	return openBare(ctx, ref, opts)
}

func openDocker(ctx context.Context, ref string, opts Options) (*Source, error) {
	host, from, err := dockerHost(opts.Getenv)
	if err != nil {
		return nil, err
	}
	return openDaemon(ctx, "docker", host, from, ref, opts)
}

func openPodman(ctx context.Context, ref string, opts Options) (*Source, error) {
	host, from := podmanHost(opts.Getenv)
	return openDaemon(ctx, "podman", host, from, ref, opts)
}

// openBare tries each of opts.Sources in turn. A daemon that is not running
// or does not have the image passes to the next source; the error, when
// every source fails, says what each one answered.
func openBare(ctx context.Context, ref string, opts Options) (*Source, error) {
	var (
		tried   []string
		lastErr error
	)
	for i, s := range opts.Sources {
		var (
			src *Source
			err error
		)
		switch s {
		case "docker":
			src, err = openDocker(ctx, ref, opts)
		case "podman":
			src, err = openPodman(ctx, ref, opts)
		case "containerd":
			src, err = openContainerd(ctx, ref, opts)
		case "remote":
			src, err = openRemote(ctx, ref, opts)
			if src != nil {
				src.Artifact.Source = "registry"
			}
		default:
			return nil, fmt.Errorf("unknown image source %q (want docker, podman, containerd or remote)", s)
		}
		if err == nil {
			opts.Logger.Info("image source", "ref", urlcred.RedactText(ref), "source", src.Artifact.Source)
			return src, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if i < len(opts.Sources)-1 && (s == "remote" || !(errors.Is(err, ErrNotInDaemon) || errors.Is(err, ErrDaemonUnavailable))) {
			// The daemon has the image but could not export it, or the
			// registry failed: worth saying if a later source works. The
			// last source's error is the one returned: no need to log it.
			opts.Logger.Warn("image source failed", "ref", urlcred.RedactText(ref), "source", s, "err", urlcred.Error(err))
		} else {
			opts.Logger.Debug("image source skipped", "ref", urlcred.RedactText(ref), "source", s, "err", urlcred.Error(err))
		}
		lastErr = err
		switch {
		case s == "remote":
		case errors.Is(err, ErrNotInDaemon):
			tried = append(tried, s+": no such image")
		case errors.Is(err, ErrDaemonUnavailable):
			tried = append(tried, s+": not running")
		default:
			tried = append(tried, fmt.Sprintf("%s: %v", s, err))
		}
	}
	if lastErr == nil {
		return nil, errors.New("no image source to look in")
	}
	if len(tried) == 0 {
		return nil, lastErr
	}
	// The last source's error is the one to act on (usually the
	// registry's); the daemons' answers follow.
	return nil, fmt.Errorf("%w (also looked in %s)", lastErr, strings.Join(tried, "; "))
}

// sourceKind names the source a scheme reads from (Artifact.Source).
func sourceKind(ref string) string {
	for _, p := range localPrefixes {
		if strings.HasPrefix(ref, p) {
			return strings.TrimSuffix(p, ":")
		}
	}
	return "registry"
}

// looksLikePath: an existing file or directory, or a name only a path has
// (a registry reference never starts with "/" or ".", nor ends in ".tar").
func looksLikePath(ref string) bool {
	if _, err := os.Stat(ref); err == nil {
		return true
	}
	if strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") {
		return true
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst"} {
		if strings.HasSuffix(ref, ext) {
			return true
		}
	}
	return false
}

// openPath opens a bare path by what its content is.
func openPath(ctx context.Context, p string, opts Options) (*Source, error) {
	kind, err := DetectLocal(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	opts.Logger.Info("image source", "path", p, "source", kind)
	var src *Source
	switch kind {
	case KindDockerArchive:
		src, err = openDockerArchive(ctx, p, opts)
	case KindOCIArchive:
		src, err = openOCIArchive(ctx, p, opts)
	case KindOCILayout:
		src, err = openLayoutDir(p, opts)
	case KindRootFS:
		return nil, fmt.Errorf("%s is a root filesystem directory: it has no image manifest; use Read (or dir:%s)", p, p)
	}
	if err != nil {
		return nil, err
	}
	src.Artifact.Source = string(kind)
	return src, nil
}

// isRootFSDir: a bare path to a directory that is not an OCI layout.
func isRootFSDir(ref string) bool {
	if sourceKind(ref) != "registry" {
		return false
	}
	st, err := os.Stat(ref)
	if err != nil || !st.IsDir() {
		return false
	}
	_, err = os.Stat(ref + "/oci-layout")
	return err != nil
}

// IsBareReference reports whether ref names neither a scheme nor a path:
// Open looks for it in the Sources in turn.
func IsBareReference(ref string) bool {
	return sourceKind(ref) == "registry" && !looksLikePath(ref)
}
