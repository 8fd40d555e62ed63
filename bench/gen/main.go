// Command gen writes a synthetic docker-archive for the image-reading
// benchmark (bench/layers.sh): by default 12 gzip layers, about 1.2 GiB
// uncompressed and 120,000 files, with an Alpine os-release and apk
// database in the first layer. The output is not committed.
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
)

func main() {
	out := flag.String("o", ".cache/bench/synthetic.tar", "output docker-archive")
	layers := flag.Int("layers", 12, "number of layers")
	files := flag.Int("files", 10_000, "files per layer")
	avg := flag.Int("avg", 10_000, "average file size in bytes")
	layout := flag.String("layout", "names", "member names: names (layerNN.tar.gz, config.json: no digests, as tarball.Write) or blobs (blobs/sha256/<digest> of the gzip blob and of the config, as docker save 25+ with the containerd image store)")
	packages := flag.Int("packages", 2, "packages: apk packages in the first layer's database (a sixth, at least 2), the rest npm package.json files spread over the other layers")
	flag.Parse()
	// File bodies are slices of a 1 MiB pool, up to twice the average long.
	if *layout != "names" && *layout != "blobs" {
		log.Fatalf("gen: -layout is names or blobs")
	}
	if *layers < 1 || *files < 0 || *avg < 1 || 2**avg > poolSize {
		log.Fatalf("gen: want -layers >= 1, -files >= 0 and 1 <= -avg <= %d", poolSize/2)
	}
	apkPackages = max(2, *packages/6)
	if *packages > 2 && *layers > 1 {
		npmPerLayer = (*packages - apkPackages) / (*layers - 1)
	}
	if err := run(*out, *layers, *files, *avg, *layout == "blobs"); err != nil {
		log.Fatal(err)
	}
}

// apkPackages and npmPerLayer set the package count (-packages).
var apkPackages, npmPerLayer = 2, 0

// poolSize is the size of the text-like pool file bodies are cut from.
const poolSize = 1 << 20

func run(out string, layers, files, avg int, blobs bool) error {
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var diffIDs, history []any
	var layerFiles, layerPaths []string
	var total int64
	rng := rand.New(rand.NewPCG(1, 2))
	// A 1 MiB pool of text-like bytes: compresses about 3:1, like real layers.
	pool := make([]byte, poolSize)
	words := []string{"lib", "usr", "share", "config", "python", "node", "error", "value", "0x1f", "return", "\n", " ", "{", "}"}
	for i := 0; i < len(pool); {
		if rng.IntN(4) == 0 {
			pool[i] = byte(rng.IntN(256))
			i++
			continue
		}
		i += copy(pool[i:], words[rng.IntN(len(words))])
	}
	for l := 0; l < layers; l++ {
		name := fmt.Sprintf("layer%02d.tar.gz", l)
		diffID, blobDigest, n, err := writeLayer(filepath.Join(dir, name), l, files, avg, pool, rng)
		if err != nil {
			return err
		}
		total += n
		diffIDs = append(diffIDs, diffID)
		history = append(history, map[string]any{"created_by": fmt.Sprintf("RUN generate layer %d", l)})
		layerFiles = append(layerFiles, name)
		if blobs {
			layerPaths = append(layerPaths, "blobs/sha256/"+blobDigest)
		} else {
			layerPaths = append(layerPaths, name)
		}
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{"Cmd": []string{"/bin/sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}, "history": history,
	})
	configPath := "config.json"
	if blobs {
		sum := sha256.Sum256(cfg)
		configPath = "blobs/sha256/" + hex.EncodeToString(sum[:])
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": configPath, "RepoTags": []string{"bench/synthetic:1"}, "Layers": layerPaths}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644); err != nil {
		return err
	}
	if err := pack(out, dir, append([]string{"manifest.json", "config.json"}, layerFiles...), append([]string{"manifest.json", configPath}, layerPaths...)); err != nil {
		return err
	}
	fmt.Printf("%s: %d layers, %d files, %.2f GiB uncompressed\n", out, layers, layers*files, float64(total)/(1<<30))
	return nil
}

// writeLayer writes one gzip layer and returns its diff ID, the hex SHA-256
// of the gzip blob and the tar size.
func writeLayer(path string, l, files, avg int, pool []byte, rng *rand.Rand) (string, string, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", "", 0, err
	}
	defer f.Close()
	blob := sha256.New()
	zw := gzip.NewWriter(io.MultiWriter(f, blob))
	h := sha256.New()
	counter := &countWriter{}
	tw := tar.NewWriter(io.MultiWriter(zw, h, counter))
	add := func(name string, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	if l == 0 {
		db := "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r29\nA:x86_64\no:busybox\n\n"
		for i := 2; i < apkPackages; i++ {
			db += fmt.Sprintf("P:pkg%04d\nV:1.%d.%d-r0\nA:x86_64\no:pkg%04d\nL:/usr/lib\nT:synthetic package %d\nU:https://example.org/pkg%04d\n\n", i, i%7, i%13, i, i, i)
		}
		for _, m := range []struct{ name, body string }{
			{"etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n"},
			{"etc/alpine-release", "3.20.3\n"},
			{"lib/apk/db/installed", db},
		} {
			if err := add(m.name, []byte(m.body)); err != nil {
				return "", "", 0, err
			}
		}
	}
	for i := 0; l > 0 && i < npmPerLayer; i++ {
		name := fmt.Sprintf("l%02d-module-%04d", l, i)
		body := fmt.Sprintf(`{"name":%q,"version":"%d.%d.%d","description":"synthetic module","license":"MIT","author":"bench"}`, name, i%5, i%11, i%17)
		if err := add(fmt.Sprintf("app%02d/node_modules/%s/package.json", l, name), []byte(body)); err != nil {
			return "", "", 0, err
		}
	}
	for i := 0; i < files; i++ {
		size := rng.IntN(2 * avg)
		off := rng.IntN(len(pool) - size)
		if err := add(fmt.Sprintf("srv/layer%02d/dir%03d/file%05d.dat", l, i/100, i), pool[off:off+size]); err != nil {
			return "", "", 0, err
		}
	}
	if err := tw.Close(); err != nil {
		return "", "", 0, err
	}
	if err := zw.Close(); err != nil {
		return "", "", 0, err
	}
	if err := f.Close(); err != nil {
		return "", "", 0, err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(blob.Sum(nil)), counter.n, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// pack writes the files of dir named files, as `docker save` would, into
// out as members named names.
func pack(out, dir string, files, names []string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for i, n := range names {
		if err := packFile(tw, filepath.Join(dir, files[i]), n); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func packFile(tw *tar.Writer, path, name string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, src)
	return err
}
