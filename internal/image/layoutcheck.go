package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// checkLayout vets an OCI layout directory before go-containerregistry
// reads it: that library reads index.json, manifests and configs whole
// with os.ReadFile and opens blobs wherever their symlinks point, so a
// symlink to /dev/zero grew memory without bound and a FIFO hung the scan.
// Every file it would read must be a regular file inside the layout
// (symlinks resolve within it); index.json, manifests and configs must be
// at most maxArchiveJSON bytes and the size their descriptor says. Blobs a
// layout does not hold (other platforms) are left to fail if chosen.
func checkLayout(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	b, err := readLayoutFile(root, "index.json", -1, "index.json")
	if err != nil {
		return err
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(b, &idx); err != nil {
		return fmt.Errorf("index.json: %w", err)
	}
	return checkLayoutDescriptors(root, idx.Manifests, 0)
}

// maxLayoutIndexDepth matches pickImage's limit on nested indexes.
const maxLayoutIndexDepth = 5

func checkLayoutDescriptors(root *os.Root, descs []v1.Descriptor, depth int) error {
	if depth > maxLayoutIndexDepth {
		return nil
	}
	for _, d := range descs {
		if !d.MediaType.IsIndex() && !d.MediaType.IsImage() {
			continue
		}
		what := "manifest"
		if d.MediaType.IsIndex() {
			what = "image index"
		}
		b, err := readLayoutFile(root, blobPath(d.Digest), d.Size, what)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if d.MediaType.IsIndex() {
			child, err := v1.ParseIndexManifest(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("index %s: %w", d.Digest, err)
			}
			if err := checkLayoutDescriptors(root, child.Manifests, depth+1); err != nil {
				return err
			}
			continue
		}
		m, err := v1.ParseManifest(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
		if _, err := readLayoutFile(root, blobPath(m.Config.Digest), m.Config.Size, "image config"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for i, l := range m.Layers {
			if _, err := statLayoutFile(root, blobPath(l.Digest), fmt.Sprintf("layer %d blob", i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

func blobPath(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

// statLayoutFile returns the size of a regular file inside the layout;
// what says what it holds, for errors.
func statLayoutFile(root *os.Root, name, what string) (int64, error) {
	info, err := root.Stat(name)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", what, name, err)
	}
	if !info.Mode().IsRegular() {
		return 0, fmt.Errorf("%s %s: not a regular file (%s)", what, name, info.Mode().Type())
	}
	return info.Size(), nil
}

// readLayoutFile reads a regular file inside the layout of at most
// maxArchiveJSON bytes and, when want >= 0, exactly want bytes.
func readLayoutFile(root *os.Root, name string, want int64, what string) ([]byte, error) {
	size, err := statLayoutFile(root, name, what)
	if err != nil {
		return nil, err
	}
	if size > maxArchiveJSON {
		return nil, fmt.Errorf("%s %s: %d bytes exceeds the %d-byte limit", what, name, size, maxArchiveJSON)
	}
	if want >= 0 && size != want {
		return nil, fmt.Errorf("%s %s: %d bytes, its descriptor says %d: %w", what, name, size, want, ErrDigestMismatch)
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxArchiveJSON))
}
