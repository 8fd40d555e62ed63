package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	namespacesapi "github.com/containerd/containerd/api/services/namespaces/v1"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// A containerd image is read from containerd's content store through its
// gRPC API (the images and content services, from containerd's own api
// module): the image record names the target descriptor, and every blob
// (index, manifest, config, layers) is read by digest and streamed. The full
// containerd client is not used: it brings the snapshotters, the runtime
// and their dependencies into the binary to read what two services serve.
//
// The blobs take the same path as a registry's (fromImage, pickImage):
// manifests and config are checked against their digests, layers are
// verified while they stream through the walk and only cache misses are
// read.

// DefaultContainerdAddress is containerd's default API socket.
const DefaultContainerdAddress = "/run/containerd/containerd.sock"

const (
	containerdDialTimeout   = 5 * time.Second
	containerdLookupTimeout = 30 * time.Second
	// containerdNamespaceHeader is the gRPC metadata key containerd reads
	// the namespace from (containerd's namespaces.GRPCHeader).
	containerdNamespaceHeader = "containerd-namespace"
)

// containerdAddress is CONTAINERD_ADDRESS (a path or unix:// URL), else the
// default socket, and where it came from (for messages).
func containerdAddress(getenv Env) (addr, from string) {
	if a := getenv("CONTAINERD_ADDRESS"); a != "" {
		return strings.TrimPrefix(a, "unix://"), "CONTAINERD_ADDRESS"
	}
	return DefaultContainerdAddress, "the default socket"
}

func openContainerd(ctx context.Context, ref string, opts Options) (*Source, error) {
	addr, from := containerdAddress(opts.Getenv)
	ns := opts.ContainerdNamespace
	where := fmt.Sprintf("containerd at %s (from %s), namespace %q", addr, from, ns)
	if _, err := os.Stat(addr); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", where, ErrDaemonUnavailable, err)
	}
	conn, err := grpc.NewClient("unix://"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Blobs stream in containerd's 1 MiB chunks; nothing bigger is asked for.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", where, ErrDaemonUnavailable, err)
	}
	c := &containerdStore{conn: conn, content: contentapi.NewContentClient(conn), ns: ns}
	rec, err := c.lookup(ctx, ref)
	if err != nil {
		defer conn.Close()
		if errors.Is(err, ErrNotInDaemon) {
			return nil, fmt.Errorf("%s: %s: %w%s", where, ref, err, c.otherNamespaces(ctx))
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	src, err := c.source(ctx, rec, opts)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: reading %s: %w", where, rec.Name, err)
	}
	src.cleanup = append(src.cleanup, func() { conn.Close() })
	src.Artifact.Source = "containerd"
	return src, nil
}

// containerdStore reads one namespace of one containerd.
type containerdStore struct {
	conn    *grpc.ClientConn
	content contentapi.ContentClient
	ns      string
}

func (c *containerdStore) withNamespace(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, containerdNamespaceHeader, c.ns)
}

// lookup finds the image record: by the name as given (ctr import keeps
// names verbatim), then by its normalized form (docker.io/library/alpine:3.20,
// what ctr pull, nerdctl and the CRI store).
func (c *containerdStore) lookup(ctx context.Context, ref string) (*imagesapi.Image, error) {
	names := []string{ref}
	if n, err := reference.ParseDockerRef(ref); err == nil && n.String() != ref {
		names = append(names, n.String())
	} else if err != nil {
		if _, err := name.ParseReference(ref); err != nil {
			return nil, fmt.Errorf("parsing reference %q: %w", ref, err)
		}
	}
	images := imagesapi.NewImagesClient(c.conn)
	for i, n := range names {
		// The first call also tells whether anything answers: a socket
		// that accepts and never answers must not hang the scan.
		timeout := containerdLookupTimeout
		if i == 0 {
			timeout = containerdDialTimeout
		}
		callCtx, cancel := context.WithTimeout(c.withNamespace(ctx), timeout)
		resp, err := images.Get(callCtx, &imagesapi.GetImageRequest{Name: n})
		cancel()
		switch status.Code(err) {
		case codes.OK:
			return resp.GetImage(), nil
		case codes.NotFound:
			continue
		case codes.Unavailable, codes.Unimplemented, codes.DeadlineExceeded, codes.Unknown, codes.Internal:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// Not a gRPC server, or not containerd's.
			hint := ""
			if strings.Contains(err.Error(), "permission denied") {
				hint = " (containerd's socket is usually root's: run as root, or point CONTAINERD_ADDRESS at a socket you may use)"
			}
			return nil, fmt.Errorf("%w: %v%s", ErrDaemonUnavailable, err, hint)
		default:
			return nil, fmt.Errorf("looking up %s: %w", n, err)
		}
	}
	return nil, ErrNotInDaemon
}

// otherNamespaces names the namespaces that do exist, for a "no such image"
// that is likely a wrong --containerd-namespace (Kubernetes keeps its
// images in k8s.io).
func (c *containerdStore) otherNamespaces(ctx context.Context) string {
	callCtx, cancel := context.WithTimeout(ctx, containerdDialTimeout)
	defer cancel()
	resp, err := namespacesapi.NewNamespacesClient(c.conn).List(callCtx, &namespacesapi.ListNamespacesRequest{})
	if err != nil {
		return ""
	}
	var others []string
	for _, n := range resp.GetNamespaces() {
		if n.GetName() != c.ns {
			others = append(others, n.GetName())
		}
	}
	if len(others) == 0 {
		return fmt.Sprintf(" (%q is the only namespace)", c.ns)
	}
	slices.Sort(others)
	return fmt.Sprintf(" (other namespaces: %s; choose one with --containerd-namespace or CONTAINERD_NAMESPACE)", strings.Join(others, ", "))
}

// source describes the image rec points at, picking the platform from an
// index as for a registry image.
func (c *containerdStore) source(ctx context.Context, rec *imagesapi.Image, opts Options) (*Source, error) {
	target := rec.GetTarget()
	if target == nil {
		return nil, errors.New("the image record has no target")
	}
	digest, err := v1.NewHash(target.GetDigest())
	if err != nil {
		return nil, fmt.Errorf("target digest %q: %w", target.GetDigest(), err)
	}
	mt := types.MediaType(target.GetMediaType())
	var img v1.Image
	switch {
	case mt.IsIndex():
		raw, err := c.small(ctx, digest)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", digest, err)
		}
		if err := checkDigest(digest.String(), raw, "index"); err != nil {
			return nil, err
		}
		img, err = pickImage(&containerdIndex{store: c, ctx: ctx, raw: raw, digest: digest, mediaType: mt}, opts.Platform)
		if err != nil {
			return nil, err
		}
	case mt.IsImage():
		if img, err = c.image(ctx, digest, mt); err != nil {
			return nil, err
		}
		if err := checkManifest(img, digest); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("target %s: %q: %w", digest, mt, ErrUnsupportedMediaType)
	}
	src, err := fromImage(img)
	if err != nil {
		return nil, err
	}
	src.Artifact.RepoTags = []string{rec.GetName()}
	if n, err := reference.ParseNormalizedNamed(rec.GetName()); err == nil {
		src.Artifact.RepoDigests = []string{n.Name() + "@" + digest.String()}
	}
	return src, nil
}

// small reads a manifest, index or config (bounded like a daemon export's).
func (c *containerdStore) small(ctx context.Context, digest v1.Hash) ([]byte, error) {
	rc, err := c.open(ctx, digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSaveMetadata+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSaveMetadata {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", digest, maxSaveMetadata)
	}
	return b, nil
}

// open streams a blob from the content store. The caller verifies it.
func (c *containerdStore) open(ctx context.Context, digest v1.Hash) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(c.withNamespace(ctx))
	stream, err := c.content.Read(ctx, &contentapi.ReadContentRequest{Digest: digest.String()})
	if err != nil {
		cancel()
		return nil, blobError(digest, err)
	}
	return &contentReader{stream: stream, cancel: cancel, digest: digest}, nil
}

func blobError(digest v1.Hash, err error) error {
	if status.Code(err) == codes.NotFound {
		// Pulled for another platform, or garbage-collected.
		return fmt.Errorf("blob %s is not in the content store (pull the image again, e.g. ctr images pull --all-platforms): %w", digest, ErrNotInDaemon)
	}
	return fmt.Errorf("reading blob %s: %w", digest, err)
}

// contentReader turns the content service's stream of chunks into a reader.
type contentReader struct {
	stream grpc.ServerStreamingClient[contentapi.ReadContentResponse]
	cancel context.CancelFunc
	digest v1.Hash
	buf    []byte
	err    error
	once   sync.Once
}

func (r *contentReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		resp, err := r.stream.Recv()
		if err == io.EOF {
			r.err = io.EOF
			continue
		}
		if err != nil {
			r.err = blobError(r.digest, err)
			continue
		}
		r.buf = resp.GetData()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *contentReader) Close() error {
	r.once.Do(r.cancel)
	return nil
}

// image is the manifest digest names, as a go-containerregistry image whose
// blobs come from the content store.
func (c *containerdStore) image(ctx context.Context, digest v1.Hash, mt types.MediaType) (v1.Image, error) {
	raw, err := c.small(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", digest, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", digest, err)
	}
	return partial.CompressedToImage(&containerdImage{store: c, ctx: ctx, raw: raw, manifest: m, mediaType: mt})
}

// containerdImage is a partial.CompressedImageCore over the content store.
type containerdImage struct {
	store     *containerdStore
	ctx       context.Context
	raw       []byte
	manifest  *v1.Manifest
	mediaType types.MediaType
}

func (i *containerdImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *containerdImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *containerdImage) RawConfigFile() ([]byte, error) {
	return i.store.small(i.ctx, i.manifest.Config.Digest)
}

func (i *containerdImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, d := range i.manifest.Layers {
		if d.Digest == h {
			return &containerdLayer{store: i.store, ctx: i.ctx, desc: d}, nil
		}
	}
	if i.manifest.Config.Digest == h {
		return &containerdLayer{store: i.store, ctx: i.ctx, desc: i.manifest.Config}, nil
	}
	return nil, fmt.Errorf("blob %s is not in manifest", h)
}

type containerdLayer struct {
	store *containerdStore
	ctx   context.Context
	desc  v1.Descriptor
}

func (l *containerdLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *containerdLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *containerdLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *containerdLayer) Compressed() (io.ReadCloser, error) {
	return l.store.open(l.ctx, l.desc.Digest)
}

// containerdIndex is a v1.ImageIndex over the content store, for pickImage.
type containerdIndex struct {
	store     *containerdStore
	ctx       context.Context
	raw       []byte
	digest    v1.Hash
	mediaType types.MediaType
}

func (x *containerdIndex) MediaType() (types.MediaType, error) { return x.mediaType, nil }
func (x *containerdIndex) Digest() (v1.Hash, error)            { return x.digest, nil }
func (x *containerdIndex) Size() (int64, error)                { return int64(len(x.raw)), nil }
func (x *containerdIndex) RawManifest() ([]byte, error)        { return x.raw, nil }
func (x *containerdIndex) IndexManifest() (*v1.IndexManifest, error) {
	var im v1.IndexManifest
	if err := json.Unmarshal(x.raw, &im); err != nil {
		return nil, err
	}
	return &im, nil
}

func (x *containerdIndex) child(h v1.Hash) (*v1.Descriptor, error) {
	im, err := x.IndexManifest()
	if err != nil {
		return nil, err
	}
	for i, d := range im.Manifests {
		if d.Digest == h {
			return &im.Manifests[i], nil
		}
	}
	return nil, fmt.Errorf("%s is not in index %s", h, x.digest)
}

func (x *containerdIndex) Image(h v1.Hash) (v1.Image, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	return x.store.image(x.ctx, h, d.MediaType)
}

func (x *containerdIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	raw, err := x.store.small(x.ctx, h)
	if err != nil {
		return nil, err
	}
	return &containerdIndex{store: x.store, ctx: x.ctx, raw: raw, digest: h, mediaType: d.MediaType}, nil
}
