package image

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// LocalKind is what a file or directory holds, named by the reference
// scheme that reads it.
type LocalKind string

const (
	KindDockerArchive LocalKind = "docker-archive" // a `docker save` tar, plain, gzip or zstd
	KindOCIArchive    LocalKind = "oci-archive"    // an OCI layout in a tar, plain, gzip or zstd
	KindOCILayout     LocalKind = "oci-layout"     // an OCI layout directory
	KindRootFS        LocalKind = "dir"            // an unpacked root filesystem
)

// DetectLocal says what p holds by its content, not its name: a directory
// with an oci-layout file is an OCI layout, any other directory a root
// filesystem; a file is read as a (possibly compressed) tar, and is a
// docker save archive when it has manifest.json (Docker 25+ writes both
// manifest.json and an OCI layout; the docker-archive reader reads it
// without unpacking), else an OCI archive when it has oci-layout and
// index.json.
func DetectLocal(ctx context.Context, p string, opts Options) (LocalKind, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(p, "oci-layout")); err == nil {
			return KindOCILayout, nil
		}
		return KindRootFS, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(4); isGzip(magic) || isZstd(magic) {
		dec, closeDec, err := decompress(br, "")
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		defer closeDec()
		r = dec
	}
	return detectTar(ctx, p, r, opts)
}

// detectTar reads member headers (a plain file is seeked over, a
// compressed one decompressed once) until the kind is certain.
func detectTar(ctx context.Context, p string, r io.Reader, opts Options) (LocalKind, error) {
	r = io.LimitReader(&ctxReader{ctx: ctx, r: r}, maxArchiveBytes(opts))
	tr := tar.NewReader(r)
	var ociLayout, index bool
	for n := 0; n < maxArchiveEntries; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if n == 0 {
				return "", fmt.Errorf("%s is not an image archive (not a tar, gzip or zstd file: %v)", p, err)
			}
			return "", fmt.Errorf("%s: reading archive: %w", p, err)
		}
		name, _ := cleanPath(hdr.Name)
		switch name {
		case "manifest.json":
			return KindDockerArchive, nil
		case "oci-layout":
			ociLayout = true
		case "index.json":
			index = true
		}
	}
	if ociLayout && index {
		return KindOCIArchive, nil
	}
	return "", fmt.Errorf("%s is a tar archive but neither a docker save archive (no manifest.json) nor an OCI archive (no oci-layout and index.json)", p)
}

// schemeHint explains a failed file scheme by what the file really is:
// "oci-layout:foo.tar" fails with "foo.tar is a docker save archive; use
// docker-archive:foo.tar".
func schemeHint(ctx context.Context, ref string, err error, opts Options) error {
	scheme, p, ok := strings.Cut(ref, ":")
	if !ok {
		return err
	}
	switch LocalKind(scheme) {
	case KindDockerArchive, KindOCIArchive, KindOCILayout, KindRootFS:
	default:
		return err
	}
	kind, derr := DetectLocal(ctx, p, opts)
	if derr != nil || string(kind) == scheme {
		return err
	}
	return fmt.Errorf("%s is %s; use %s:%s (%w)", p, describeKind(kind), kind, p, err)
}

func describeKind(k LocalKind) string {
	switch k {
	case KindDockerArchive:
		return "a docker save archive"
	case KindOCIArchive:
		return "an OCI archive"
	case KindOCILayout:
		return "an OCI layout directory"
	case KindRootFS:
		return "a root filesystem directory"
	}
	return string(k)
}
