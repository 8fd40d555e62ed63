package image

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// ErrNotInDaemon: the daemon answered but has no image by that name.
var ErrNotInDaemon = errors.New("no such image in the daemon")

// ErrDaemonUnavailable: nothing usable answers at the daemon's address
// (no socket, connection refused, or not an Engine API).
var ErrDaemonUnavailable = errors.New("daemon not reachable")

// A daemon image is read from the Engine API's image export
// (GET /images/get, what `docker save` streams), which Docker and Podman's
// compatible API both serve. go-containerregistry's daemon.Image buffers
// that stream in memory (or a temp file), or with its unbuffered option
// saves the image again for every access (manifest, config, each layer);
// so the stream is read here instead, twice at most:
//
//  1. once for manifest.json and the config (layer data is skipped, never
//     kept), because `docker save` writes them after the layers;
//  2. once more for the layers the cache does not have, each handed to the
//     ordinary layer walk as the stream reaches it, in stream order.
//
// Nothing of the image is held in memory or written to disk.

// openDaemon opens ref from the Docker-API daemon at host. kind ("docker"
// or "podman") names it in messages and Artifact.Source.
func openDaemon(ctx context.Context, kind, host, from, ref string, opts Options) (*Source, error) {
	if _, err := name.ParseReference(ref); err != nil {
		return nil, fmt.Errorf("parsing reference: %w", err)
	}
	c, err := client.New(client.FromEnv, client.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("%s at %s (from %s): %w", kind, host, from, err)
	}
	// A socket that accepts and never answers must not hang the scan.
	pingCtx, cancel := context.WithTimeout(ctx, daemonPingTimeout)
	_, err = c.Ping(pingCtx, client.PingOptions{NegotiateAPIVersion: true})
	cancel()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s at %s (from %s): %w: %v", kind, host, from, ErrDaemonUnavailable, err)
	}
	inspCtx, cancel := context.WithTimeout(ctx, daemonInspectTimeout)
	insp, err := c.ImageInspect(inspCtx, ref)
	cancel()
	if err != nil {
		c.Close()
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("%s at %s: %s: %w", kind, host, ref, ErrNotInDaemon)
		}
		return nil, fmt.Errorf("%s at %s: inspecting %s: %w", kind, host, ref, err)
	}
	configHash, err := v1.NewHash(insp.ID)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s reports image ID %q: %w", kind, insp.ID, err)
	}
	stream := &saveStream{
		ctx: ctx,
		save: func(ctx context.Context) (io.ReadCloser, error) {
			// The ID, not the name: the name could be retagged between the two reads.
			return c.ImageSave(ctx, []string{insp.ID})
		},
	}
	src := &Source{cleanup: []func(){func() { stream.close(); c.Close() }}}
	if err := stream.index(configHash); err != nil {
		src.Close()
		return nil, fmt.Errorf("%s at %s: exporting %s: %w", kind, host, ref, err)
	}
	if err := src.fromSaveIndex(stream, configHash); err != nil {
		src.Close()
		return nil, fmt.Errorf("%s at %s: exporting %s: %w", kind, host, ref, err)
	}
	src.Artifact.RepoTags = insp.RepoTags
	src.Artifact.RepoDigests = insp.RepoDigests
	src.Artifact.Source = kind
	return src, nil
}

// saveStream reads a `docker save` stream. index reads it once; member then
// serves one member at a time from a second read, restarting the export
// only when asked for a member the stream has already passed.
type saveStream struct {
	ctx  context.Context
	save func(context.Context) (io.ReadCloser, error)

	// From index: member names in stream order, links resolved, and the
	// small members kept (manifest.json, the config).
	position map[string]int
	links    map[string]string
	manifest []byte
	config   []byte

	mu   sync.Mutex // held from member() until the returned reader is closed
	body io.ReadCloser
	tr   *tar.Reader
	next int // position of the next header in the current read
}

const (
	daemonPingTimeout    = 5 * time.Second
	daemonInspectTimeout = 30 * time.Second
)

// maxSaveMetadata bounds manifest.json and the config kept from the stream.
const maxSaveMetadata = 8 << 20

func (s *saveStream) index(config v1.Hash) error {
	body, err := s.save(s.ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	s.position, s.links = map[string]int{}, map[string]string{}
	tr := tar.NewReader(&ctxReader{ctx: s.ctx, r: body})
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the export stream: %w", err)
		}
		if n >= maxArchiveEntries {
			return fmt.Errorf("export has more than %d members", maxArchiveEntries)
		}
		p, ok := cleanPath(hdr.Name)
		if !ok {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			s.links[p], _ = cleanPath(path.Join(path.Dir(p), hdr.Linkname))
			continue
		case tar.TypeLink:
			s.links[p], _ = cleanPath(hdr.Linkname)
			continue
		case tar.TypeReg:
		default:
			continue
		}
		s.position[p] = n
		keep := p == "manifest.json" || isConfigMember(p, config)
		if !keep {
			continue
		}
		if hdr.Size > maxSaveMetadata {
			return fmt.Errorf("%s is %d bytes, more than %d", p, hdr.Size, maxSaveMetadata)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if p == "manifest.json" {
			s.manifest = b
		} else {
			s.config = b
		}
	}
	if s.manifest == nil {
		return errors.New("the export has no manifest.json (not a docker save stream)")
	}
	if s.config == nil {
		return fmt.Errorf("the export has no config %s", config)
	}
	return nil
}

// isConfigMember: the config is <hex>.json in docker's legacy and Podman's
// exports, blobs/sha256/<hex> in Docker 25+'s OCI-shaped ones, sha256:<hex>
// in go-containerregistry's.
func isConfigMember(p string, config v1.Hash) bool {
	return p == config.Hex+".json" || p == "blobs/"+config.Algorithm+"/"+config.Hex || p == config.String()
}

// resolve follows links (a legacy export links repeated layers).
func (s *saveStream) resolve(p string) (string, error) {
	for hops := 0; hops < 16; hops++ {
		if _, ok := s.position[p]; ok {
			return p, nil
		}
		target, ok := s.links[p]
		if !ok {
			return "", fmt.Errorf("%s: not in the export", p)
		}
		p = target
	}
	return "", fmt.Errorf("%s: too many links", p)
}

// member returns the content of member p. The stream stays locked until the
// reader is closed: a sequential stream serves one member at a time.
func (s *saveStream) member(p string) (io.ReadCloser, error) {
	want := s.position[p]
	s.mu.Lock()
	if s.tr == nil || s.next > want {
		s.closeLocked()
		body, err := s.save(s.ctx)
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.body, s.tr, s.next = body, tar.NewReader(body), 0
	}
	for {
		hdr, err := s.tr.Next()
		if err != nil {
			s.closeLocked()
			s.mu.Unlock()
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading the export stream for %s: %w", p, err)
		}
		s.next++
		if name, _ := cleanPath(hdr.Name); name == p && hdr.Typeflag == tar.TypeReg {
			return &memberReader{r: s.tr, unlock: s.mu.Unlock}, nil
		}
	}
}

func (s *saveStream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
}

func (s *saveStream) closeLocked() {
	if s.body != nil {
		s.body.Close()
	}
	s.body, s.tr, s.next = nil, nil, 0
}

type memberReader struct {
	r      io.Reader
	once   sync.Once
	unlock func()
}

func (m *memberReader) Read(p []byte) (int, error) { return m.r.Read(p) }
func (m *memberReader) Close() error {
	m.once.Do(m.unlock)
	return nil
}

// fromSaveIndex describes the image from the export's manifest.json and
// config (checked against the daemon's image ID), and sets up each layer
// to be read from the stream, in stream order.
func (src *Source) fromSaveIndex(s *saveStream, config v1.Hash) error {
	if sum := sha256.Sum256(s.config); hex.EncodeToString(sum[:]) != config.Hex {
		return fmt.Errorf("the exported config does not match the image ID %s", config)
	}
	var manifest tarball.Manifest
	if err := json.Unmarshal(s.manifest, &manifest); err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	var desc *tarball.Descriptor
	for i, d := range manifest {
		if p, _ := cleanPath(d.Config); isConfigMember(p, config) {
			desc = &manifest[i]
			break
		}
	}
	if desc == nil {
		return fmt.Errorf("manifest.json does not list the image %s", config)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(s.config))
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(desc.Layers) {
		return fmt.Errorf("manifest.json lists %d layers but config has %d diff IDs", len(desc.Layers), len(cfg.RootFS.DiffIDs))
	}
	src.Artifact.ImageID = config.String()
	pos := make([]int, len(desc.Layers))
	for i, layerPath := range desc.Layers {
		p, _ := cleanPath(layerPath)
		member, err := s.resolve(p)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		src.layers = append(src.layers, layerBlob{
			Layer: inventory.Layer{Index: i, DiffID: cfg.RootFS.DiffIDs[i].String()},
			open:  func() (io.ReadCloser, error) { return s.member(member) },
		})
		src.streamOrder = append(src.streamOrder, i)
		pos[i] = s.position[member]
	}
	// Stable: layers sharing one blob keep image order.
	slices.SortStableFunc(src.streamOrder, func(a, b int) int { return cmp.Compare(pos[a], pos[b]) })
	describe(src, cfg, nil)
	return nil
}
