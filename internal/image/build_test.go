package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// dockerArchive writes a `docker save` style tar holding the given layer
// blobs (as stored: compressed or not) and returns its path. Diff IDs are
// the blobs' digests: the reader does not verify them.
func dockerArchive(t testing.TB, dir string, blobs ...[]byte) string {
	t.Helper()
	var diffIDs, history []any
	files := map[string][]byte{}
	var layerPaths []string
	for i, b := range blobs {
		diffIDs = append(diffIDs, digestOf(b))
		history = append(history, map[string]any{"created_by": "RUN step " + string(rune('a'+i))})
		p := filepath.ToSlash(filepath.Join(digestOf(b)[7:19]+string(rune('a'+i)), "layer.tar"))
		layerPaths = append(layerPaths, p)
		files[p] = b
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": history,
	})
	files["config.json"] = cfg
	manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"test/img:1"}, "Layers": layerPaths}})
	files["manifest.json"] = manifest
	return writeTar(t, filepath.Join(dir, "image.tar"), files)
}

func writeTar(t testing.TB, path string, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, b := range files {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))})
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
