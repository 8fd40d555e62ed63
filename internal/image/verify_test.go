package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// hostileBase is a two-layer alpine-like image: os-release and an apk
// database in the first layer, an application file in the second.
func hostileBase(t *testing.T, pkgs string) v1.Image {
	return imagetest.Build(t, empty.Image, nil,
		imagetest.Step{CreatedBy: "ADD rootfs", Entries: []imagetest.Entry{
			{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.20.3\n"},
			{Name: "lib/apk/db/installed", Body: pkgs},
		}},
		imagetest.Step{CreatedBy: "COPY app", Entries: []imagetest.Entry{{Name: "app/main", Body: "app"}}},
	)
}

const realPackages = "P:musl\nV:1.2.5-r0\nA:x86_64\n\nP:openssl\nV:3.3.0-r0\nA:x86_64\n\n"

// withDiffID returns img with its config claiming diffID for layer i.
func withDiffID(t *testing.T, img v1.Image, i int, diffID v1.Hash) v1.Image {
	return imagetest.EditConfigFile(t, img, func(cf *v1.ConfigFile) { cf.RootFS.DiffIDs[i] = diffID })
}

func diffIDs(t *testing.T, img v1.Image) []v1.Hash {
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.RootFS.DiffIDs
}

func readTest(t *testing.T, ref string, opts Options) (*inventory.Inventory, error) {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	return Read(context.Background(), ref, []inventory.Analyzer{&apkCounter{}}, opts)
}

func wantDigestError(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err = %v, want a digest mismatch", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to say %q", err, want)
	}
}

// A config whose diff ID does not match the layer's content fails, for
// every source, and names the layer.
func TestTamperedDiffID(t *testing.T) {
	real := hostileBase(t, realPackages)
	other := diffIDs(t, hostileBase(t, "P:evil\nV:1\n\n"))[0]
	bad := withDiffID(t, real, 0, other)
	host := imagetest.Registry(t)
	imagetest.Push(t, bad, host+"/tampered:diffid")
	for name, ref := range map[string]string{
		"docker-archive": imagetest.WriteDockerArchive(t, bad, "tampered:diffid"),
		"oci-layout":     imagetest.WriteLayout(t, bad),
		"registry":       host + "/tampered:diffid",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readTest(t, ref, Options{Insecure: true})
			wantDigestError(t, err, "layer 0 ("+other.String()+")")
		})
	}
}

// layoutBlob returns the path of a blob in an OCI layout reference.
func layoutBlob(ref string, h v1.Hash) string {
	return filepath.Join(strings.TrimPrefix(ref, "oci-layout:"), "blobs", h.Algorithm, h.Hex)
}

func TestTamperedLayoutBlobs(t *testing.T) {
	img := hostileBase(t, realPackages)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	manifestDigest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	// Another valid gzip layer of a different content, stored under the
	// first layer's name.
	otherLayer, err := imagetest.Layer(t, imagetest.Entry{Name: "lib/apk/db/installed", Body: "P:evil\nV:1\n\n"}).Compressed()
	if err != nil {
		t.Fatal(err)
	}
	otherBlob, err := io.ReadAll(otherLayer)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		blob   v1.Hash
		tamper func([]byte) []byte
		want   string
	}{
		{"layer blob replaced", m.Layers[0].Digest, func([]byte) []byte { return otherBlob }, "layer 0"},
		{"layer blob with trailing bytes", m.Layers[1].Digest, func(b []byte) []byte { return append(b, "junk"...) }, "layer 1"},
		{"manifest", manifestDigest, func(b []byte) []byte { return append(b, ' ') }, "manifest"},
		{"config", m.Config.Digest, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"rootfs"`), []byte(` "rootfs"`), 1)
		}, "image config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := imagetest.WriteLayout(t, img)
			p := layoutBlob(ref, tc.blob)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tc.tamper(b), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = readTest(t, ref, Options{})
			wantDigestError(t, err, tc.want)
		})
	}
}

// Scanning an image whose layer claims another image's diff ID, then the
// real image, with one cache: the real image's results, not the tampered
// ones.
func TestCachePoisoning(t *testing.T) {
	real := hostileBase(t, realPackages)
	evil := hostileBase(t, "P:evil\nV:1\nA:x86_64\n\n")
	poisoned := withDiffID(t, evil, 0, diffIDs(t, real)[0])
	cache := t.TempDir()
	for _, ref := range []string{imagetest.WriteDockerArchive(t, poisoned, "evil:1"), imagetest.WriteLayout(t, poisoned)} {
		if _, err := readTest(t, ref, Options{CacheDir: cache}); !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("poisoned image read: %v", err)
		}
	}
	for _, ref := range []string{imagetest.WriteDockerArchive(t, real, "real:1"), imagetest.WriteLayout(t, real)} {
		inv, err := readTest(t, ref, Options{CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range inv.Packages {
			names = append(names, p.Name)
		}
		if strings.Join(names, ",") != "musl,openssl" {
			t.Errorf("%s: packages %v, want musl,openssl", ref, names)
		}
	}
}

// A cache entry rewritten to list no packages is not used: the layer is
// read again and a warning says why.
func TestRewrittenCacheEntry(t *testing.T) {
	img := hostileBase(t, realPackages)
	ref := imagetest.WriteLayout(t, img)
	cache := t.TempDir()
	opts := Options{CacheDir: cache}
	if _, err := readTest(t, ref, opts); err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "layers", "*", "*.entry"))
	if len(entries) != 2 {
		t.Fatalf("%d cache entries, want 2", len(entries))
	}
	for _, e := range entries {
		b, err := os.ReadFile(e)
		if err != nil {
			t.Fatal(err)
		}
		r, err := decodeCacheEntry(b)
		if err != nil {
			t.Fatal(err)
		}
		// A valid payload, right diff ID, no packages, old checksum.
		r.Packages, r.Files = nil, nil
		if err := os.WriteFile(e, append(headerOf(b), payloadOf(t, mustEntry(t, r))...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := readTest(t, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 2 || inv.Artifact.OS.Family != "alpine" {
		t.Errorf("packages %d, OS %+v: rewritten cache entries were used", len(inv.Packages), inv.Artifact.OS)
	}
	if !strings.Contains(strings.Join(inv.Warnings, "\n"), "checksum mismatch") {
		t.Errorf("no warning about the rewritten entries: %q", inv.Warnings)
	}
}

// appendMember adds a member at the end of a tar file (before nothing: the
// two zero blocks that end it are dropped and rewritten).
func appendMember(t *testing.T, archive, name string, body []byte) {
	t.Helper()
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tr := tar.NewReader(bytes.NewReader(b))
	tw := tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A docker save tar with two manifest.json members (docker load reads the
// last, go-containerregistry the first) is refused.
func TestDuplicateManifestRefused(t *testing.T) {
	real := hostileBase(t, realPackages)
	ref := imagetest.WriteDockerArchive(t, real, "real:1")
	archive := strings.TrimPrefix(ref, "docker-archive:")
	appendMember(t, archive, "manifest.json", []byte(`[{"Config":"x.json","RepoTags":["evil:1"],"Layers":["y/layer.tar"]}]`))
	_, err := readTest(t, ref, Options{})
	if err == nil || !strings.Contains(err.Error(), "more than one member named manifest.json") {
		t.Errorf("err = %v, want the archive refused", err)
	}
}

// archiveLayout says how writeDockerArchive names and stores an image's
// layers and config, as one of `docker save`'s layouts does.
type archiveLayout struct {
	tag        string
	configName func(cfg v1.Hash) string
	// layer returns the member name and the stream stored for layer i.
	layer func(i int, l v1.Layer) (string, io.ReadCloser, error)
}

// legacyLayout is `docker save` before Docker 25: "<id>/layer.tar"
// members holding the uncompressed layers (their blob digest is their diff
// ID) and "<config digest>.json".
var legacyLayout = archiveLayout{
	tag:        "legacy:1",
	configName: func(cfg v1.Hash) string { return cfg.Hex + ".json" },
	layer: func(i int, l v1.Layer) (string, io.ReadCloser, error) {
		rc, err := l.Uncompressed()
		return strings.Repeat(string(rune('a'+i)), 64) + "/layer.tar", rc, err
	},
}

// blobsLayout is `docker save` 25+ with the containerd image store: gzip
// layers under blobs/sha256/<digest of the blob>, the config under
// blobs/sha256/<its digest>.
var blobsLayout = archiveLayout{
	tag:        "blobs:1",
	configName: func(cfg v1.Hash) string { return "blobs/sha256/" + cfg.Hex },
	layer: func(_ int, l v1.Layer) (string, io.ReadCloser, error) {
		digest, err := l.Digest()
		if err != nil {
			return "", nil, err
		}
		rc, err := l.Compressed()
		return "blobs/sha256/" + digest.Hex, rc, err
	},
}

// writeDockerArchive writes img as a `docker save` tar of the given
// layout. tamper replaces the stored bytes of layer i, which keeps its
// name.
func writeDockerArchive(t *testing.T, img v1.Image, layout archiveLayout, tamper map[int]func([]byte) []byte) string {
	t.Helper()
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	add := func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	add(layout.configName(cfgName), cfg)
	var names []string
	for i, l := range layers {
		name, rc, err := layout.layer(i, l)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := tamper[i]; ok {
			body = f(body)
		}
		add(name, body)
		names = append(names, `"`+name+`"`)
	}
	add("manifest.json", []byte(`[{"Config":"`+layout.configName(cfgName)+`","RepoTags":["`+layout.tag+`"],"Layers":[`+strings.Join(names, ",")+`]}]`))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), strings.TrimSuffix(layout.tag, ":1")+".tar")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return "docker-archive:" + p
}

// A `docker save` archive of the old layout names its layers
// "<id>/layer.tar": no blob digest to check, but the blob is the
// uncompressed tar, so the diff-ID check covers it. A layer.tar replaced by
// another valid tar is caught, and does not poison the cache for the real
// image.
func TestTamperedLegacyLayerTar(t *testing.T) {
	real := hostileBase(t, realPackages)
	evil := imagetest.LayerTar(t,
		imagetest.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.20.3\n"},
		imagetest.Entry{Name: "lib/apk/db/installed", Body: "P:evil\nV:1\nA:x86_64\n\n"})
	cache := t.TempDir()
	_, err := readTest(t, writeDockerArchive(t, real, legacyLayout, map[int]func([]byte) []byte{0: func([]byte) []byte { return evil }}), Options{CacheDir: cache})
	wantDigestError(t, err, "layer 0")
	// Bytes after the tar's end are part of the blob, so of the diff ID.
	// (Not with the cache above: layer 1 verified and was cached, and a
	// cached layer is not read again.)
	_, err = readTest(t, writeDockerArchive(t, real, legacyLayout, map[int]func([]byte) []byte{1: func(b []byte) []byte { return append(b, "junk"...) }}), Options{})
	wantDigestError(t, err, "layer 1")
	inv, err := readTest(t, writeDockerArchive(t, real, legacyLayout, nil), Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "musl,openssl" {
		t.Errorf("packages %v, want musl,openssl", names)
	}
}

// A docker-archive's gzip layers named blobs/sha256/<digest> are not
// hashed against their names (manifest.json, which gives the names, is
// authenticated by nothing): their uncompressed content is checked against
// the config's diff IDs, which catches any other content, and nothing read
// from a tampered layer is cached.
func TestTamperedDockerArchiveBlobs(t *testing.T) {
	real := hostileBase(t, realPackages)
	evilLayer, err := imagetest.Layer(t,
		imagetest.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.20.3\n"},
		imagetest.Entry{Name: "lib/apk/db/installed", Body: "P:evil\nV:1\nA:x86_64\n\n"}).Compressed()
	if err != nil {
		t.Fatal(err)
	}
	evil, err := io.ReadAll(evilLayer)
	if err != nil {
		t.Fatal(err)
	}
	packages := func(inv *inventory.Inventory) string {
		var names []string
		for _, p := range inv.Packages {
			names = append(names, p.Name)
		}
		return strings.Join(names, ",")
	}
	cache := t.TempDir()
	_, err = readTest(t, writeDockerArchive(t, real, blobsLayout, map[int]func([]byte) []byte{0: func([]byte) []byte { return evil }}), Options{CacheDir: cache})
	wantDigestError(t, err, "layer 0")
	if !strings.Contains(err.Error(), "uncompressed content") {
		t.Errorf("err = %v, want the diff ID check to catch it", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(cache, "layers", "*", "*.entry")); len(entries) > 1 {
		t.Errorf("%d cache entries written, want at most layer 1's", len(entries))
	}
	// Bytes after the gzip stream are no gzip member: a corrupt stream.
	_, err = readTest(t, writeDockerArchive(t, real, blobsLayout, map[int]func([]byte) []byte{1: func(b []byte) []byte { return append(b, "junk"...) }}), Options{})
	if err == nil || !strings.Contains(err.Error(), "layer 1") {
		t.Errorf("trailing bytes: err = %v, want layer 1 refused", err)
	}
	// Other compressed bytes of the same content (a gzip header field
	// changed) are the same layer.
	inv, err := readTest(t, writeDockerArchive(t, real, blobsLayout, map[int]func([]byte) []byte{1: func(b []byte) []byte {
		b = bytes.Clone(b)
		b[4] ^= 0x01 // MTIME
		return b
	}}), Options{})
	if err != nil || packages(inv) != "musl,openssl" {
		t.Errorf("recompressed layer: %v, want the image read", err)
	}
	// The real image, with the cache the tampered one was read with.
	inv, err = readTest(t, writeDockerArchive(t, real, blobsLayout, nil), Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if packages(inv) != "musl,openssl" {
		t.Errorf("packages %s, want musl,openssl", packages(inv))
	}
}

// A registry that serves other bytes for a layer blob (go-containerregistry
// hashes registry blobs itself, so Vigil does not hash them again): the
// mismatch is still a digest error naming the layer, and nothing is cached.
func TestTamperingRegistry(t *testing.T) {
	img := hostileBase(t, realPackages)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	otherLayer, err := imagetest.Layer(t, imagetest.Entry{Name: "lib/apk/db/installed", Body: "P:evil\nV:1\n\n"}).Compressed()
	if err != nil {
		t.Fatal(err)
	}
	otherBlob, err := io.ReadAll(otherLayer)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = bytes.Clone(b)
			b[(len(b)+i)%len(b)] ^= 0xff
			return b
		}
	}
	// Without a Content-Length the registry reader cannot check the size
	// first: the digest is what catches the other bytes.
	tests := []struct {
		name          string
		blob          v1.Hash
		tamper        func([]byte) []byte
		contentLength bool
		want          string
	}{
		{"byte flipped in the gzip trailer", m.Layers[0].Digest, flip(-3), true, "layer 0"},
		{"byte flipped in the deflate stream", m.Layers[1].Digest, flip(20), true, "layer 1"},
		// The manifest's size is checked first (not a digest error) ...
		{"layer blob replaced", m.Layers[0].Digest, func([]byte) []byte { return otherBlob }, false, "layer 0"},
		// ... and bytes past it are not read: the real blob is scanned.
		{"layer blob with trailing bytes", m.Layers[1].Digest, func(b []byte) []byte { return append(b, "junk"...) }, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+tc.blob.String()) {
					reg.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				reg.ServeHTTP(rec, r)
				body := tc.tamper(rec.Body.Bytes())
				if tc.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				w.WriteHeader(rec.Code)
				w.Write(body)
				w.(http.Flusher).Flush()
			}))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			imagetest.Push(t, img, host+"/tampered:blob")
			cache := t.TempDir()
			inv, err := readTest(t, host+"/tampered:blob", Options{Insecure: true, CacheDir: cache})
			switch {
			case tc.want == "":
				if err != nil || len(inv.Packages) != 2 {
					t.Fatalf("err = %v, want the real image", err)
				}
				return
			case !tc.contentLength:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want an error naming %s", err, tc.want)
				}
			default:
				wantDigestError(t, err, tc.want)
			}
			if entries, _ := filepath.Glob(filepath.Join(cache, "layers", "*", "*.entry")); len(entries) > 1 {
				t.Errorf("%d cache entries written", len(entries))
			}
		})
	}
}

// The asyncHasher hashes exactly what a digester hashes, whatever the
// write sizes.
func TestAsyncHasher(t *testing.T) {
	data := make([]byte, 3*asyncChunk+12345)
	for i := range data {
		data[i] = byte(i*7 + i/1000)
	}
	want := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	for _, step := range []int{1, 511, 4096, asyncChunk, asyncChunk + 1, len(data)} {
		d, err := newDigester(want)
		if err != nil {
			t.Fatal(err)
		}
		a := newAsyncHasher(d)
		for p := data; len(p) > 0; {
			n := min(step, len(p))
			a.Write(p[:n])
			p = p[n:]
		}
		a.wait()
		a.wait()
		if err := d.check("content"); err != nil {
			t.Errorf("writes of %d: %v", step, err)
		}
	}
	// Stopped early (an error path), the goroutine ends.
	d, _ := newDigester(want)
	a := newAsyncHasher(d)
	a.Write(data[:asyncChunk*2])
	a.wait()
	if d.check("content") == nil {
		t.Error("half the content matched")
	}
}

// With a core to spare (fewer layers at once than GOMAXPROCS) the diff ID
// is hashed on another goroutine; a mismatch is still caught.
func TestTamperedDiffIDAsync(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: the diff ID is hashed inline")
	}
	real := hostileBase(t, realPackages)
	other := diffIDs(t, hostileBase(t, "P:evil\nV:1\n\n"))[0]
	bad := withDiffID(t, real, 0, other)
	_, err := readTest(t, imagetest.WriteLayout(t, bad), Options{Concurrency: 1})
	wantDigestError(t, err, "layer 0 ("+other.String()+")")
	inv, err := readTest(t, imagetest.WriteLayout(t, real), Options{Concurrency: 1})
	if err != nil || len(inv.Packages) != 2 {
		t.Fatalf("real image: %v", err)
	}
}
