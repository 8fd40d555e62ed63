package image

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

var keepAll = contentKeeper{paths: map[string]bool{
	"etc/os-release": true, "usr/lib/os-release": true, "etc/passwd": true, "evil": true, "a": true, "b": true, "link": true,
}}

func TestHostileLayerEntries(t *testing.T) {
	tests := []struct {
		name         string
		entries      []imagetest.Entry
		wantWarning  string
		wantContents map[string]string
	}{
		{
			name:        "dot-dot escape is skipped",
			entries:     []imagetest.Entry{{Name: "../../evil", Body: "x"}, {Name: "etc/passwd", Body: "root:x:0:0"}},
			wantWarning: "../../evil: unsafe path: skipped", wantContents: map[string]string{"etc/passwd": "root:x:0:0"},
		},
		{
			name:         "absolute and dot-slash names are relative to the root",
			entries:      []imagetest.Entry{{Name: "/etc/passwd", Body: "abs"}, {Name: "./evil", Body: "dot"}},
			wantContents: map[string]string{"etc/passwd": "abs", "evil": "dot"},
		},
		{
			name: "symlink escaping the root resolves inside it",
			entries: []imagetest.Entry{
				{Name: "etc/passwd", Body: "inside"},
				{Name: "etc/os-release", Typeflag: tar.TypeSymlink, Link: "../../../../../etc/passwd"},
			},
			wantContents: map[string]string{"etc/passwd": "inside", "etc/os-release": "inside"},
		},
		{
			name: "symlink loop ends",
			entries: []imagetest.Entry{
				{Name: "a", Typeflag: tar.TypeSymlink, Link: "b"},
				{Name: "b", Typeflag: tar.TypeSymlink, Link: "/a"},
			},
			wantContents: map[string]string{},
		},
		{
			name:        "hard link to a missing file is a warning",
			entries:     []imagetest.Entry{{Name: "link", Typeflag: tar.TypeLink, Link: "nowhere"}},
			wantWarning: "link: hard link to missing file nowhere", wantContents: map[string]string{},
		},
		{
			name:         "hard link to a kept file is analyzed with its content",
			entries:      []imagetest.Entry{{Name: "evil", Body: "data"}, {Name: "link", Typeflag: tar.TypeLink, Link: "evil"}},
			wantContents: map[string]string{"evil": "data", "link": "data"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			archive := dockerArchive(t, tmp, imagetest.LayerTar(t, tt.entries...))
			spill := t.TempDir()
			inv, err := Read(context.Background(), "docker-archive:"+archive, []inventory.Analyzer{keepAll}, Options{TempDir: spill})
			if err != nil {
				t.Fatal(err)
			}
			warnings := strings.Join(inv.Warnings, "\n")
			if tt.wantWarning != "" && !strings.Contains(warnings, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", warnings, tt.wantWarning)
			}
			if tt.wantWarning == "" && warnings != "" {
				t.Errorf("unexpected warnings %q", warnings)
			}
			got := map[string]string{}
			for p, b := range inv.Contents {
				got[p] = string(b)
			}
			if len(got) != len(tt.wantContents) {
				t.Errorf("contents = %v, want %v", got, tt.wantContents)
			}
			for p, want := range tt.wantContents {
				if got[p] != want {
					t.Errorf("%s = %q, want %q", p, got[p], want)
				}
			}
			assertEmptyDir(t, spill)
			if _, err := os.Stat(filepath.Join(tmp, "..", "evil")); err == nil {
				t.Errorf("file written outside the temp dir")
			}
		})
	}
}

func TestHostileLayerStreams(t *testing.T) {
	layer := imagetest.LayerTar(t, imagetest.Entry{Name: "etc/passwd", Body: strings.Repeat("root:x:0:0\n", 1000)})
	gz := gzipBytes(t, layer)
	zst := zstdBytes(t, layer)
	corruptZstd := bytes.Clone(zst)
	for i := len(corruptZstd) / 2; i < len(corruptZstd); i++ {
		corruptZstd[i] ^= 0x5a
	}
	bomb := gzipBytes(t, imagetest.LayerTar(t, imagetest.Entry{Name: "zeros", Body: string(make([]byte, 8<<20))}))
	tests := []struct {
		name    string
		blob    []byte
		opts    Options
		wantErr string
		wantIs  error
	}{
		{name: "truncated gzip", blob: gz[:len(gz)/2], wantErr: "truncated"},
		{name: "gzip missing its trailer", blob: gz[:len(gz)-4], wantErr: "layer 0 (sha256:"},
		{name: "corrupt zstd", blob: corruptZstd, wantErr: "corrupt"},
		{name: "decompression bomb", blob: bomb, opts: Options{MaxLayerBytes: 1 << 20}, wantIs: ErrLayerTooLarge},
		{name: "garbage", blob: []byte("this is not a tar stream at all, just some bytes......"), wantErr: "layer 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			archive := dockerArchive(t, tmp, tt.blob)
			tt.opts.TempDir = t.TempDir()
			_, err := Read(context.Background(), "docker-archive:"+archive, []inventory.Analyzer{keepAll}, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "layer 0 (sha256:") {
				t.Errorf("err = %v, want it to name the layer and contain %q", err, tt.wantErr)
			}
			assertEmptyDir(t, tt.opts.TempDir)
		})
	}
}

func TestTooManyEntries(t *testing.T) {
	layer := imagetest.LayerTar(t, imagetest.Entry{Name: "a", Body: "1"}, imagetest.Entry{Name: "b", Body: "2"}, imagetest.Entry{Name: "c", Body: "3"})
	archive := dockerArchive(t, t.TempDir(), layer)
	_, err := Read(context.Background(), "docker-archive:"+archive, nil, Options{MaxEntries: 2, TempDir: t.TempDir()})
	if !errors.Is(err, ErrTooManyEntries) {
		t.Fatalf("err = %v, want ErrTooManyEntries", err)
	}
}

func TestBrokenDockerArchives(t *testing.T) {
	layer := imagetest.LayerTar(t, imagetest.Entry{Name: "a", Body: "1"})
	tests := []struct {
		name    string
		files   map[string][]byte
		wantErr string
	}{
		{name: "no manifest", files: map[string][]byte{"config.json": []byte("{}")}, wantErr: "manifest.json"},
		{name: "manifest not JSON", files: map[string][]byte{"manifest.json": []byte("[{")}, wantErr: "manifest.json"},
		{name: "missing config", files: map[string][]byte{
			"manifest.json": []byte(`[{"Config":"config.json","Layers":["l/layer.tar"]}]`),
			"l/layer.tar":   layer,
		}, wantErr: "config.json"},
		{name: "missing layer", files: map[string][]byte{
			"manifest.json": []byte(`[{"Config":"config.json","Layers":["l/layer.tar"]}]`),
			"config.json":   []byte(`{"rootfs":{"type":"layers","diff_ids":["` + digestOf(layer) + `"]}}`),
		}, wantErr: "l/layer.tar"},
		{name: "diff ID count mismatch", files: map[string][]byte{
			"manifest.json": []byte(`[{"Config":"config.json","Layers":["l/layer.tar"]}]`),
			"config.json":   []byte(`{"rootfs":{"type":"layers","diff_ids":[]}}`),
			"l/layer.tar":   layer,
		}, wantErr: "diff IDs"},
		{name: "no layers", files: map[string][]byte{
			"manifest.json": []byte(`[{"Config":"config.json","Layers":[]}]`),
			"config.json":   []byte(`{}`),
		}, wantErr: "no layers"},
		// Names pointing out of the archive are looked up inside it only.
		{name: "config outside the archive", files: map[string][]byte{
			"manifest.json": []byte(`[{"Config":"../../../etc/hostname","Layers":["l/layer.tar"]}]`),
			"l/layer.tar":   layer,
		}, wantErr: "not in archive"},
		{name: "layer outside the archive", files: map[string][]byte{
			"manifest.json": []byte(`[{"Config":"config.json","Layers":["/etc/passwd"]}]`),
			"config.json":   []byte(`{"rootfs":{"type":"layers","diff_ids":["` + digestOf(layer) + `"]}}`),
		}, wantErr: "etc/passwd: not in archive"},
		{name: "two members for one layer path", files: nil, wantErr: "more than one member named l/layer.tar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			if tt.files == nil {
				path = filepath.Join(t.TempDir(), "x.tar")
				os.WriteFile(path, nil, 0o644)
				appendMember(t, path, "manifest.json", []byte(`[{"Config":"config.json","Layers":["l/layer.tar"]}]`))
				appendMember(t, path, "config.json", []byte(`{"rootfs":{"type":"layers","diff_ids":["`+digestOf(layer)+`"]}}`))
				appendMember(t, path, "l/layer.tar", layer)
				appendMember(t, path, "./l/layer.tar", imagetest.LayerTar(t, imagetest.Entry{Name: "b", Body: "2"}))
			} else {
				path = writeTar(t, filepath.Join(t.TempDir(), "x.tar"), tt.files)
			}
			tmp := t.TempDir()
			_, err := Read(context.Background(), "docker-archive:"+path, nil, Options{TempDir: tmp})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want it to name %s and %q", err, path, tt.wantErr)
			}
			assertEmptyDir(t, tmp)
		})
	}
}

// A zstd-compressed archive asking for a 256 MiB window is refused before
// anything is allocated for it, as a zstd layer is.
func TestHugeZstdWindowArchive(t *testing.T) {
	// Frame header with a window descriptor (exponent 18: 1<<28 bytes),
	// then one empty raw last block.
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x01, 0x00, 0x00}
	for _, scheme := range []string{"docker-archive:", "oci-archive:"} {
		path := filepath.Join(t.TempDir(), "x.tar.zst")
		if err := os.WriteFile(path, frame, 0o600); err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		_, err := Read(context.Background(), scheme+path, nil, Options{TempDir: tmp})
		if err == nil || !strings.Contains(err.Error(), "window") {
			t.Errorf("%s: err = %v, want a window size error", scheme, err)
		}
		assertEmptyDir(t, tmp)
	}
}

func TestMissingArchive(t *testing.T) {
	for _, ref := range []string{"docker-archive:/nonexistent.tar", "oci-archive:/nonexistent.tar", "oci-layout:/nonexistent", "dir:/nonexistent"} {
		if _, err := Read(context.Background(), ref, nil, Options{}); err == nil || !strings.Contains(err.Error(), "nonexistent") {
			t.Errorf("%s: err = %v", ref, err)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	archive := dockerArchive(t, t.TempDir(), imagetest.LayerTar(t, imagetest.Entry{Name: "a", Body: "1"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, "docker-archive:"+archive, nil, Options{TempDir: t.TempDir()}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A jar with zip-slip entry names ("../../x.jar", absolute names) inside an
// image is still catalogued, with the jar nested under such a name, and
// nothing is written outside the scan's temporary directory.
func TestZipSlipJarInImage(t *testing.T) {
	zipOf := func(entries ...[2]string) string {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			w, err := zw.Create(e[0])
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, e[1])
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	pom := func(g, a, v string) string { return "groupId=" + g + "\nartifactId=" + a + "\nversion=" + v + "\n" }
	inner := zipOf([2]string{"META-INF/maven/evil/inner/pom.properties", pom("evil", "inner", "1.0")})
	jar := zipOf(
		[2]string{"META-INF/maven/acme/app/pom.properties", pom("acme", "app", "2.0")},
		[2]string{"../../../../tmp/evil-inner-1.0.jar", inner},
		[2]string{"/abs/lib/abs-1.0.jar", inner},
	)
	img := imagetest.Build(t, empty.Image, nil, imagetest.Step{CreatedBy: "COPY app.jar", Entries: []imagetest.Entry{{Name: "srv/app.jar", Body: jar}}})
	spill := t.TempDir()
	inv, err := Read(t.Context(), imagetest.WriteDockerArchive(t, img, "acme/jar:1"), catalog.Packages(), Options{TempDir: spill})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name+"@"+p.Version)
	}
	for _, want := range []string{"acme:app@2.0", "evil:inner@1.0"} {
		if !slices.Contains(names, want) {
			t.Errorf("packages %v (warnings %q): %s missing", names, inv.Warnings, want)
		}
	}
	assertEmptyDir(t, spill)
	if _, err := os.Stat(filepath.Join(os.TempDir(), "evil-inner-1.0.jar")); err == nil {
		t.Error("a jar entry was extracted")
	}
}

// An OCI layout whose index.json, manifest, config or layer blob is a FIFO,
// a symlink to /dev/zero or a symlink out of the layout is refused before
// anything reads it (index.json -> /dev/zero grew memory without bound, a
// FIFO index.json hung the scan), as is a manifest larger than its
// descriptor says.
func TestHostileLayoutFiles(t *testing.T) {
	img := hostileBase(t, realPackages)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	manifestDigest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "host-file")
	os.WriteFile(outside, []byte("{}"), 0o644)
	files := map[string]func(ref string) string{
		"index.json": func(ref string) string { return filepath.Join(strings.TrimPrefix(ref, "oci-layout:"), "index.json") },
		"manifest":   func(ref string) string { return layoutBlob(ref, manifestDigest) },
		"config":     func(ref string) string { return layoutBlob(ref, m.Config.Digest) },
		"layer":      func(ref string) string { return layoutBlob(ref, m.Layers[0].Digest) },
	}
	replace := map[string]func(t *testing.T, p string){
		"fifo": func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
		},
		"symlink to /dev/zero":      func(t *testing.T, p string) { os.Symlink("/dev/zero", p) },
		"symlink out of the layout": func(t *testing.T, p string) { os.Symlink(outside, p) },
	}
	for file, locate := range files {
		for how, put := range replace {
			t.Run(file+"/"+how, func(t *testing.T) {
				ref := imagetest.WriteLayout(t, img)
				p := locate(ref)
				os.Remove(p)
				put(t, p)
				done := make(chan error, 1)
				go func() { _, err := readTest(t, ref, Options{}); done <- err }()
				select {
				case err := <-done:
					if err == nil {
						t.Fatal("read a layout with a hostile file")
					}
				case <-time.After(30 * time.Second):
					t.Fatal("still reading after 30s")
				}
			})
		}
	}
}

func TestOversizedLayoutManifest(t *testing.T) {
	img := hostileBase(t, realPackages)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := imagetest.WriteLayout(t, img)
	p := layoutBlob(ref, d)
	if err := os.Truncate(p, maxArchiveJSON+1); err != nil {
		t.Fatal(err)
	}
	_, err = readTest(t, ref, Options{})
	if err == nil || !strings.Contains(err.Error(), "exceeds the") {
		t.Fatalf("err = %v, want the size limit", err)
	}
}

// A registry image whose config is larger than the JSON limit is refused
// before the config is read (go-containerregistry reads it whole, as large
// as the manifest says).
func TestOversizedRegistryConfig(t *testing.T) {
	img := imagetest.Build(t, empty.Image, func(c *v1.Config) {
		c.Labels = map[string]string{"pad": strings.Repeat("x", maxArchiveJSON)}
	}, imagetest.Step{CreatedBy: "ADD", Entries: []imagetest.Entry{{Name: "etc/os-release", Body: "ID=alpine\n"}}})
	ref := imagetest.Registry(t) + "/test/big:1"
	imagetest.Push(t, img, ref)
	_, err := readTest(t, ref, Options{Insecure: true, Sources: []string{"remote"}})
	if err == nil || !strings.Contains(err.Error(), "image config") || !strings.Contains(err.Error(), "exceeds the") {
		t.Fatalf("err = %v, want the config size limit", err)
	}
}

// PAX headers let a tar entry carry a megabyte-long name or link target;
// gzip packs thousands in a few MB (a 1.6 MB archive of 1,500 such links
// held 2 GB). Names and targets past PATH_MAX are skipped with a warning,
// warnings are capped, and a layer recording more paths and targets than
// the budget fails.
func TestHugeNamesAndTargets(t *testing.T) {
	long := strings.Repeat("x/", 2100) // past PATH_MAX; a hostile one is a megabyte
	var entries []imagetest.Entry
	for i := range maxLayerWarnings + 10 {
		entries = append(entries, imagetest.Entry{Name: "l" + strconv.Itoa(i), Typeflag: tar.TypeSymlink, Link: long})
	}
	entries = append(entries, imagetest.Entry{Name: "etc/os-release", Body: "ID=alpine\n"})
	archive := dockerArchive(t, t.TempDir(), imagetest.LayerTar(t, entries...))
	inv, err := Read(t.Context(), "docker-archive:"+archive, []inventory.Analyzer{keepAll}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if string(inv.Contents["etc/os-release"]) != "ID=alpine\n" {
		t.Errorf("contents %v", inv.Contents)
	}
	if n := len(inv.Warnings); n != maxLayerWarnings+1 || !strings.Contains(inv.Warnings[0], "longer than 4096 bytes: skipped") ||
		!strings.Contains(inv.Warnings[n-1], "the rest are not shown") {
		t.Errorf("%d warnings, first %.200q, last %.200q", n, inv.Warnings[0], inv.Warnings[n-1])
	}

	defer func(old int64) { maxRecordedBytes = old }(maxRecordedBytes)
	maxRecordedBytes = 100 << 10
	entries = entries[:0]
	for i := range 100 {
		entries = append(entries, imagetest.Entry{Name: "l" + strconv.Itoa(i), Typeflag: tar.TypeSymlink, Link: strings.Repeat("y", 4000)})
	}
	archive = dockerArchive(t, t.TempDir(), imagetest.LayerTar(t, entries...))
	_, err = Read(t.Context(), "docker-archive:"+archive, []inventory.Analyzer{keepAll}, Options{TempDir: t.TempDir()})
	if !errors.Is(err, ErrTooManyEntries) || !strings.Contains(err.Error(), "bytes of paths and link targets") {
		t.Errorf("err = %v, want the record budget", err)
	}
}
