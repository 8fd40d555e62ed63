package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/urlcred"
)

// Source is a resolved image: its description and a way to open each layer.
// Close removes any temporary files Open created.
type Source struct {
	// Artifact describes the image (everything but the OS, which needs the
	// merged layers).
	Artifact inventory.Artifact
	Warnings []string

	// unredactedConfig is the config before secrets.RedactConfig masked it
	// into Artifact.Config.
	unredactedConfig *inventory.ImageConfig
	layers           []layerBlob
	cleanup          []func()
	// streamOrder, when set, is the order in which the layers arrive on one
	// sequential stream (a daemon export): they are read one at a time, in
	// that order (daemon.go).
	streamOrder []int
}

// layerBlob is one layer as stored: open returns the blob as stored
// (compressed or not); the walk detects the compression. blobDigest, when
// the source names the blob by one, is checked while the blob streams; the
// uncompressed content is always checked against the diff ID.
type layerBlob struct {
	inventory.Layer
	blobDigest string
	// sourceVerified is set when open's reader checks blobDigest itself
	// (go-containerregistry's registry reader hashes every blob): it is
	// not hashed a second time, and its mismatch error is made ours.
	sourceVerified bool
	open           func() (io.ReadCloser, error)
}

// Close releases what Open created (temporary directories and files).
func (s *Source) Close() error {
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	s.cleanup = nil
	return nil
}

// Open resolves ref (see Read for the syntax; "dir:" is not a Source) and
// reads the image's manifest and configuration, but no layer.
func Open(ctx context.Context, ref string, opts Options) (*Source, error) {
	opts = opts.withDefaults()
	removeStaleTemp(opts.TempDir, opts.Logger)
	var (
		src *Source
		err error
	)
	switch {
	case strings.HasPrefix(ref, "docker-archive:"):
		src, err = openDockerArchive(ctx, strings.TrimPrefix(ref, "docker-archive:"), opts)
	case strings.HasPrefix(ref, "oci-layout:"):
		src, err = openLayoutDir(strings.TrimPrefix(ref, "oci-layout:"), opts)
	case strings.HasPrefix(ref, "oci-archive:"):
		src, err = openOCIArchive(ctx, strings.TrimPrefix(ref, "oci-archive:"), opts)
	case strings.HasPrefix(ref, "dir:"):
		return nil, fmt.Errorf("opening %s: a dir: reference has no image; use Read", ref)
	default:
		// docker:, podman:, containerd:, a bare path or a bare reference (local.go).
		src, err = openOther(ctx, ref, opts)
	}
	if err != nil {
		// A reference typed as a URL may carry credentials (https://user:pass@host/...).
		return nil, fmt.Errorf("opening image %s: %w", urlcred.RedactText(ref), urlcred.Error(schemeHint(ctx, ref, err, opts)))
	}
	src.Artifact.Name = ref
	if src.Artifact.Source == "" {
		src.Artifact.Source = sourceKind(ref)
	}
	return src, nil
}

func openRemote(ctx context.Context, ref string, opts Options) (*Source, error) {
	var nameOpts []name.Option
	if opts.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("parsing reference: %w", err)
	}
	remoteOpts := []remote.Option{remote.WithContext(ctx)}
	if opts.Auth != nil {
		remoteOpts = append(remoteOpts, remote.WithAuth(opts.Auth))
	} else if opts.Username != "" || opts.Password != "" {
		remoteOpts = append(remoteOpts, remote.WithAuth(&authn.Basic{Username: opts.Username, Password: opts.Password}))
	} else {
		remoteOpts = append(remoteOpts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	desc, err := remote.Get(r, remoteOpts...)
	if err != nil {
		return nil, remoteHint(err, r)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		img, err = pickImage(idx, opts.Platform)
		if err != nil {
			return nil, err
		}
	} else if img, err = desc.Image(); err != nil {
		return nil, err
	} else if err := checkManifest(img, desc.Digest); err != nil {
		return nil, err
	}
	src, err := fromImage(img)
	if err != nil {
		return nil, err
	}
	for i := range src.layers {
		src.layers[i].sourceVerified = true
	}
	src.Artifact.RepoDigests = []string{r.Context().Name() + "@" + desc.Digest.String()}
	if tag, ok := r.(name.Tag); ok {
		src.Artifact.RepoTags = []string{tag.Name()}
	}
	return src, nil
}

func openLayoutDir(dir string, opts Options) (*Source, error) {
	if err := checkLayout(dir); err != nil {
		return nil, fmt.Errorf("reading OCI layout: %w", err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout: %w", err)
	}
	img, err := pickImage(idx, opts.Platform)
	if err != nil {
		return nil, err
	}
	return fromImage(img)
}

// pickImage chooses the image for platform from an index, descending into
// nested indexes (an OCI layout's index.json usually points at one). With
// no platform requested, linux/amd64 is preferred, then the first image.
func pickImage(idx v1.ImageIndex, platform string) (v1.Image, error) {
	return pickImageDepth(idx, platform, 0)
}

func pickImageDepth(idx v1.ImageIndex, platform string, depth int) (v1.Image, error) {
	if depth > 4 {
		return nil, fmt.Errorf("image indexes nested more than 4 deep")
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading image index: %w", err)
	}
	want, explicit := DefaultPlatform, platform != ""
	if explicit {
		want = platform
	}
	spec, err := v1.ParsePlatform(want)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", want, err)
	}
	var chosen *v1.Descriptor
	for i, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Satisfies(*spec) {
			chosen = &im.Manifests[i]
			break
		}
	}
	if chosen == nil {
		var candidates []int
		for i, d := range im.Manifests {
			if isAttestation(d) || !(d.MediaType.IsImage() || d.MediaType.IsIndex()) {
				continue
			}
			if d.Platform == nil || !explicit {
				candidates = append(candidates, i)
			}
		}
		// An unlabeled single entry (OCI layouts) or, by default, the first image.
		if len(candidates) == 0 || (explicit && len(im.Manifests) > 1) {
			return nil, fmt.Errorf("%s: %w (index has %s)", want, ErrNoMatchingPlatform, platforms(im))
		}
		chosen = &im.Manifests[candidates[0]]
	}
	if chosen.MediaType.IsIndex() {
		child, err := idx.ImageIndex(chosen.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading nested index %s: %w", chosen.Digest, err)
		}
		raw, err := child.RawManifest()
		if err != nil {
			return nil, fmt.Errorf("reading nested index %s: %w", chosen.Digest, err)
		}
		if err := checkDigest(chosen.Digest.String(), raw, "nested index"); err != nil {
			return nil, err
		}
		return pickImageDepth(child, platform, depth+1)
	}
	img, err := idx.Image(chosen.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading image %s: %w", chosen.Digest, err)
	}
	if err := checkManifest(img, chosen.Digest); err != nil {
		return nil, err
	}
	return img, nil
}

// checkManifest verifies that img's manifest is the one digest names (an
// OCI layout reads blobs by name without checking them).
func checkManifest(img v1.Image, digest v1.Hash) error {
	raw, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("reading manifest %s: %w", digest, err)
	}
	return checkDigest(digest.String(), raw, "manifest")
}

// isAttestation spots buildkit's provenance manifests ("unknown/unknown").
func isAttestation(d v1.Descriptor) bool {
	return d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" ||
		(d.Platform != nil && d.Platform.OS == "unknown")
}

func platforms(im *v1.IndexManifest) string {
	var ps []string
	for _, d := range im.Manifests {
		if d.Platform != nil {
			ps = append(ps, d.Platform.String())
		}
	}
	if len(ps) == 0 {
		return "no platforms"
	}
	return strings.Join(ps, ", ")
}

// fromImage describes a registry or layout image from its manifest (whose
// digest the caller verified) and config (verified here against the
// manifest); layer blobs are opened later, only on cache misses, and
// verified as they stream.
func fromImage(img v1.Image) (*Source, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	// go-containerregistry reads the config whole, as long as its
	// descriptor says: a registry could serve gigabytes.
	if m.Config.Size > maxArchiveJSON {
		return nil, fmt.Errorf("image config: %d bytes exceeds the %d-byte limit", m.Config.Size, maxArchiveJSON)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	if err := checkDigest(m.Config.Digest.String(), rawConfig, "image config"); err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	configName := m.Config.Digest
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading manifest digest: %w", err)
	}
	if len(m.Layers) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("manifest lists %d layers but config has %d diff IDs", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	src := &Source{}
	src.Artifact.Digest = digest.String()
	src.Artifact.ImageID = configName.String()
	for i, d := range m.Layers {
		if !isLayerMediaType(d.MediaType) {
			return nil, fmt.Errorf("layer %d (%s): %q: %w", i, d.Digest, d.MediaType, ErrUnsupportedMediaType)
		}
		digest := d.Digest
		src.layers = append(src.layers, layerBlob{
			Layer: inventory.Layer{Index: i, DiffID: cfg.RootFS.DiffIDs[i].String(), Digest: digest.String(),
				MediaType: string(d.MediaType), Size: d.Size},
			blobDigest: digest.String(),
			open: func() (io.ReadCloser, error) {
				l, err := img.LayerByDigest(digest)
				if err != nil {
					return nil, err
				}
				return l.Compressed()
			},
		})
	}
	describe(src, cfg, m.Annotations)
	return src, nil
}

func isLayerMediaType(mt types.MediaType) bool {
	switch mt {
	case types.DockerLayer, types.DockerForeignLayer, types.DockerUncompressedLayer,
		types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer,
		types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer:
		return true
	}
	return false
}

// localPrefixes are the reference schemes that name files, not a registry.
var localPrefixes = []string{"docker-archive:", "oci-layout:", "oci-archive:", "dir:", "docker:", "podman:", "containerd:"}

// RegistryTag is the tag a registry reference names ("latest" when it names
// none, as a pull would), and "" for digests and local sources, whose tags
// only the image itself knows (Artifact.RepoTags).
func RegistryTag(ref string) string {
	for _, p := range localPrefixes {
		if strings.HasPrefix(ref, p) {
			return ""
		}
	}
	// A bare path (app.tar, ./img, /srv/alpine.tar.gz) is a file like
	// docker-archive:PATH: the image's own RepoTags say its tags.
	if strings.Contains(ref, "@") || looksLikePath(ref) {
		return ""
	}
	t, err := name.NewTag(ref)
	if err != nil {
		return ""
	}
	return t.TagStr()
}
