package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// Limits for the outer archive (docker save tar, OCI archive) as opposed to
// its layers: how many members it may have and how much it may expand to on
// disk when it has to be unpacked.
const maxArchiveEntries = 1_000_000

func maxArchiveBytes(opts Options) int64 {
	return max(4*opts.MaxLayerBytes, 1<<30)
}

// archiveMember locates one member's data inside an uncompressed tar file.
type archiveMember struct {
	offset, size int64
	link         string // hard or symbolic link target, cleaned
}

// indexTar reads the headers of an uncompressed tar file, seeking over the
// data, so members can later be opened as sections without rescanning.
func indexTar(f *os.File) (map[string]archiveMember, error) {
	members := map[string]archiveMember{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return members, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		if len(members) >= maxArchiveEntries {
			return nil, fmt.Errorf("archive has more than %d members", maxArchiveEntries)
		}
		p, ok := cleanPath(hdr.Name)
		if !ok {
			continue
		}
		// archive/tar reads headers without read-ahead, so the file
		// position is where this member's data starts.
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		if _, dup := members[p]; dup {
			// docker load would take the last copy, other readers the
			// first: which image that is cannot be trusted.
			return nil, fmt.Errorf("archive has more than one member named %s: refusing an ambiguous archive", p)
		}
		m := archiveMember{offset: off, size: hdr.Size}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			m.link, _ = cleanPath(path.Join(path.Dir(p), hdr.Linkname))
		case tar.TypeLink:
			m.link, _ = cleanPath(hdr.Linkname)
		case tar.TypeReg:
		default:
			continue
		}
		members[p] = m
	}
}

// open returns a member's content, following links (older docker save
// archives link repeated layers to the first copy).
func openMember(f *os.File, members map[string]archiveMember, p string) (io.ReadCloser, int64, error) {
	for hops := 0; hops < 16; hops++ {
		m, ok := members[p]
		if !ok {
			return nil, 0, fmt.Errorf("%s: not in archive", p)
		}
		if m.link == "" {
			return io.NopCloser(io.NewSectionReader(f, m.offset, m.size)), m.size, nil
		}
		p = m.link
	}
	return nil, 0, fmt.Errorf("%s: too many links", p)
}

// openDockerArchive reads a `docker save` tar (gzip-compressed or not) from
// a one-pass index of its members. go-containerregistry's tarball package
// is not used to read it: it takes the first of two members with the same
// name where `docker load` takes the last (so it could scan a different
// image than the one that would run), and it hashes every compressed layer
// to build a manifest, which would read the whole archive even when every
// layer result is cached. An archive with a repeated member name is
// refused. The config is verified against the name it is stored under
// (when that is a digest, as docker writes it) and every layer's
// uncompressed content against its diff ID.
func openDockerArchive(ctx context.Context, archive string, opts Options) (*Source, error) {
	tarPath, cleanup, err := uncompressedArchive(ctx, archive, opts)
	if err != nil {
		return nil, err
	}
	src := &Source{cleanup: []func(){cleanup}}
	fail := func(err error) (*Source, error) {
		src.Close()
		return nil, err
	}
	f, err := os.Open(tarPath)
	if err != nil {
		return fail(err)
	}
	src.cleanup = append(src.cleanup, func() { f.Close() })
	members, err := indexTar(f)
	if err != nil {
		return fail(err)
	}
	var manifest tarball.Manifest
	if err := readMemberJSON(f, members, "manifest.json", &manifest); err != nil {
		return fail(err)
	}
	if len(manifest) == 0 {
		return fail(errors.New("manifest.json lists no image"))
	}
	desc := manifest[0]
	if len(manifest) > 1 {
		if len(desc.RepoTags) == 0 {
			return fail(fmt.Errorf("archive holds %d images and the first has no tag", len(manifest)))
		}
		if _, err := name.NewTag(desc.RepoTags[0]); err != nil {
			return fail(fmt.Errorf("archive tag %q: %w", desc.RepoTags[0], err))
		}
		src.Warnings = append(src.Warnings, fmt.Sprintf("archive holds %d images; reading the first (%s)", len(manifest), desc.RepoTags[0]))
	}
	if len(desc.Layers) == 0 {
		return fail(errors.New("manifest.json lists no layers"))
	}
	cfg, imageID, err := readArchiveConfig(f, members, desc.Config)
	if err != nil {
		return fail(err)
	}
	if len(cfg.RootFS.DiffIDs) != len(desc.Layers) {
		return fail(fmt.Errorf("manifest.json lists %d layers but config has %d diff IDs", len(desc.Layers), len(cfg.RootFS.DiffIDs)))
	}
	src.Artifact.ImageID = imageID
	src.Artifact.RepoTags = desc.RepoTags
	for i, layerPath := range desc.Layers {
		p, _ := cleanPath(layerPath)
		rc, size, err := openMember(f, members, p)
		if err != nil {
			return fail(fmt.Errorf("layer %d: %w", i, err))
		}
		rc.Close()
		// No blobDigest: what a member's name (blobs/sha256/<hex>) says
		// about its compressed bytes is authenticated by nothing Vigil
		// reads (manifest.json is not), and the content it decompresses to
		// is checked against the config's diff ID either way; hashing the
		// compressed bytes too would cost a second SHA-256 and prove
		// nothing more. (An uncompressed member's digest is its diff ID.)
		src.layers = append(src.layers, layerBlob{
			Layer: inventory.Layer{Index: i, DiffID: cfg.RootFS.DiffIDs[i].String(), Size: size},
			open: func() (io.ReadCloser, error) {
				rc, _, err := openMember(f, members, p)
				return rc, err
			},
		})
	}
	describe(src, cfg, nil)
	return src, nil
}

// maxArchiveJSON bounds manifest.json and the config read from an archive.
const maxArchiveJSON = 64 << 20

func readMember(f *os.File, members map[string]archiveMember, name string) ([]byte, error) {
	p, _ := cleanPath(name)
	rc, size, err := openMember(f, members, p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > maxArchiveJSON {
		return nil, fmt.Errorf("%s: %d bytes exceeds the %d-byte limit", name, size, maxArchiveJSON)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

func readMemberJSON(f *os.File, members map[string]archiveMember, name string, v any) error {
	b, err := readMember(f, members, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

// readArchiveConfig reads and parses the image config; its digest is the
// image ID, and must match the name docker stored it under.
func readArchiveConfig(f *os.File, members map[string]archiveMember, name string) (*v1.ConfigFile, string, error) {
	b, err := readMember(f, members, name)
	if err != nil {
		return nil, "", fmt.Errorf("reading image config: %w", err)
	}
	sum := sha256.Sum256(b)
	id := "sha256:" + hex.EncodeToString(sum[:])
	p, _ := cleanPath(name)
	if want := digestFromPath(p); want != "" && want != id {
		return nil, "", fmt.Errorf("image config %s has digest %s: %w", name, id, ErrDigestMismatch)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(b))
	if err != nil {
		return nil, "", fmt.Errorf("reading image config %s: %w", name, err)
	}
	return cfg, id, nil
}

// digestFromPath returns the digest a docker save member is named by:
// "blobs/sha256/<hex>" (docker 25+) or "<hex>.json" (older configs); ""
// for names that are not digests ("<id>/layer.tar").
func digestFromPath(p string) string {
	dir, base := path.Split(p)
	base = strings.TrimSuffix(base, ".json")
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		return ""
	}
	switch dir {
	case "blobs/sha256/", "":
		return "sha256:" + base
	}
	return ""
}

// uncompressedArchive returns a path to the archive as a plain tar: the
// file itself, or, when it is gzip- or zstd-compressed, a decompressed copy
// under TempDir (random access makes reading its members cheap).
func uncompressedArchive(ctx context.Context, archive string, opts Options) (string, func(), error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(4); !isGzip(magic) && !isZstd(magic) {
		return archive, func() {}, nil
	}
	// The layers' decompressor, with its bound on the zstd window.
	dec, closeDec, err := decompress(br, "")
	if err != nil {
		return "", nil, fmt.Errorf("decompressing %s: %w", archive, err)
	}
	defer closeDec()
	tmp, release, err := createTemp(opts.TempDir, "vigil-archive-*.tar")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { tmp.Close(); release() }
	limit := maxArchiveBytes(opts)
	n, err := io.Copy(tmp, io.LimitReader(&ctxReader{ctx: ctx, r: dec}, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("more than %d bytes: %w", limit, ErrArchiveTooLarge)
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("decompressing %s: %w", archive, err)
	}
	return tmp.Name(), cleanup, nil
}

// openOCIArchive unpacks an OCI layout packed in a tar into a temporary
// directory under TempDir (bounded, path-checked, removed by Close) and
// reads it as a layout.
func openOCIArchive(ctx context.Context, archive string, opts Options) (*Source, error) {
	tarPath, cleanTar, err := uncompressedArchive(ctx, archive, opts)
	if err != nil {
		return nil, err
	}
	defer cleanTar()
	dir, cleanDir, err := mkdirTemp(opts.TempDir, "vigil-oci-*")
	if err != nil {
		return nil, err
	}
	if err := extractLayout(ctx, tarPath, dir, maxArchiveBytes(opts)); err != nil {
		cleanDir()
		return nil, err
	}
	src, err := openLayoutDir(dir, opts)
	if err != nil {
		cleanDir()
		return nil, err
	}
	src.cleanup = append(src.cleanup, cleanDir)
	return src, nil
}

// extractLayout writes the regular files of tarPath under dir. Every write
// goes through os.Root, so no entry can land outside dir; links and special
// files are skipped (an OCI layout has none).
func extractLayout(ctx context.Context, tarPath, dir string, limit int64) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	var total int64
	for entries := 0; ; entries++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if entries >= maxArchiveEntries {
			return fmt.Errorf("archive has more than %d members", maxArchiveEntries)
		}
		p, ok := cleanPath(hdr.Name)
		if !ok {
			return fmt.Errorf("archive member %q: %w", hdr.Name, ErrUnsafePath)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(p, 0o700); err != nil {
				return fmt.Errorf("extracting %s: %w", p, err)
			}
		case tar.TypeReg:
			if total += hdr.Size; total > limit {
				return fmt.Errorf("more than %d bytes: %w", limit, ErrArchiveTooLarge)
			}
			if err := writeMember(root, p, tr); err != nil {
				return fmt.Errorf("extracting %s: %w", p, err)
			}
		}
	}
}

func writeMember(root *os.Root, p string, r io.Reader) error {
	if d := path.Dir(p); d != "." {
		if err := root.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	out, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// cleanPath turns an archive member name into a clean relative path. It
// reports false for the root itself and for names escaping it ("..").
func cleanPath(name string) (string, bool) {
	p := path.Clean("/" + name)
	// Cleaning against "/" removes leading "..": detect them on the raw name.
	raw := path.Clean(strings.TrimLeft(name, "/"))
	if raw == ".." || strings.HasPrefix(raw, "../") {
		return "", false
	}
	p = strings.TrimPrefix(p, "/")
	return p, p != ""
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }
func isZstd(b []byte) bool {
	return len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd
}

// ctxReader stops a long copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
