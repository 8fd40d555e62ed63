// Package imagetest builds small container images for tests: tar layers
// from a list of entries, images from build steps, and the docker-archive,
// OCI layout and registry forms that internal/image reads. It is for tests
// only; every function fails the test on error instead of returning it.
package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one member of a hand-built layer. The zero Typeflag is a
// regular file; a zero Mode is 0644 (0755 for a directory).
type Entry struct {
	Name     string
	Body     string // content of a regular file; must be empty for other types
	Mode     int64
	Typeflag byte   // tar.TypeSymlink, tar.TypeLink, tar.TypeDir ...
	Link     string // target of a symlink or hard link
	ModTime  time.Time
}

// LayerTar returns an uncompressed tar holding entries in order.
func LayerTar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Mode: e.Mode, Typeflag: e.Typeflag, Linkname: e.Link, ModTime: e.ModTime}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			if hdr.Typeflag == tar.TypeDir {
				hdr.Mode = 0o755
			}
		}
		switch {
		case hdr.Typeflag == tar.TypeReg:
			hdr.Size = int64(len(e.Body))
		case e.Body != "":
			t.Fatalf("layer entry %s: a body on a non-regular entry (type %q)", e.Name, hdr.Typeflag)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("layer entry %s: %v", e.Name, err)
		}
		if _, err := io.WriteString(tw, e.Body); err != nil {
			t.Fatalf("layer entry %s: %v", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer returns an uncompressed layer holding entries in order.
func Layer(t testing.TB, entries ...Entry) v1.Layer {
	t.Helper()
	return LayerFromTar(t, LayerTar(t, entries...))
}

// LayerFromTar wraps an uncompressed tar blob as a layer; opts can set its
// media type.
func LayerFromTar(t testing.TB, blob []byte, opts ...tarball.LayerOption) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil }, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Gunzip writes the decompressed content of the gzip file src to dst, for
// the corpus's gzipped archives that a test needs uncompressed.
func Gunzip(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		out.Close()
		t.Fatalf("decompressing %s: %v", src, err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
