package image

import (
	"bytes"
	"context"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// FuzzLayerWalk feeds arbitrary bytes to the layer walk as a layer blob:
// it must return a result or an error, never panic or run away.
func FuzzLayerWalk(f *testing.F) {
	layer := imagetest.LayerTar(f,
		imagetest.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.10.4\n"},
		imagetest.Entry{Name: "lib/apk/db/installed", Body: "P:musl\nV:1.1\n\n"},
		imagetest.Entry{Name: "usr/lib/os-release", Typeflag: '2', Link: "../../etc/os-release"},
		imagetest.Entry{Name: "etc/.wh.passwd"},
		imagetest.Entry{Name: "opt/.wh..wh..opq"},
		imagetest.Entry{Name: "hard", Typeflag: '1', Link: "lib/apk/db/installed"},
		imagetest.Entry{Name: "../escape", Body: "x"},
	)
	f.Add(layer)
	f.Add(gzipBytes(f, layer))
	f.Add(zstdBytes(f, layer))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	analyzers := withOSRelease([]inventory.Analyzer{&apkCounter{}, keepAll, prefixFacts{prefix: ""}})
	opts := Options{MaxLayerBytes: 4 << 20, MaxEntries: 1000, MaxFileBytes: 1 << 20, TempDir: f.TempDir()}.withDefaults()
	f.Fuzz(func(t *testing.T, blob []byte) {
		r, err := walkLayer(context.Background(), bytes.NewReader(blob), inventory.Layer{}, analyzers, opts)
		if err != nil {
			return
		}
		inv, _ := merge(nil, []*inventory.LayerResult{r, r}, fixedPaths(analyzers))
		finish(inv)
	})
}
