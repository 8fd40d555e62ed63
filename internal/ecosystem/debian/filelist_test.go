package debian

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestFileListOwner(t *testing.T) {
	for path, want := range map[string]string{
		InfoDir + "python3-six.list":       "python3-six",
		InfoDir + "libc6:amd64.list":       "libc6",
		InfoDir + "python3-six.md5sums":    "",
		InfoDir + "sub/x.list":             "",
		InfoDir + ".list":                  "",
		StatusDir + "libsqlite3-0.md5sums": "libsqlite3-0",
		StatusDir + "libsqlite3-0":         "",
		"var/lib/dpkg/status":              "",
		"usr/share/x.list":                 "",
	} {
		if got := fileListOwner(path); got != want {
			t.Errorf("fileListOwner(%q) = %q, want %q", path, got, want)
		}
	}
}

func analyzeList(t *testing.T, path string, content []byte) (*inventory.LayerResult, error) {
	t.Helper()
	a := fileListAnalyzer{}
	if !a.Claims(path, 0o644, int64(len(content))) {
		t.Fatalf("%s not claimed", path)
	}
	out := &inventory.LayerResult{}
	err := a.Analyze(context.Background(), inventory.NewFileBytes(path, 0o644, content), out)
	return out, err
}

// TestFileListCorpus reads the distroless md5sums lists of the corpus:
// they name shared objects and docs only, so nothing is kept.
func TestFileListCorpus(t *testing.T) {
	for _, p := range []string{
		corpus.Path(t, "pkgdb", "dpkg", "syft-distroless", StatusDir+"libsqlite3-0.md5sums"),
		corpus.Path(t, "pkgdb", "dpkg", "scalibr-statusd", StatusDir+"foo.md5sums"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files, err := parseFileList(context.Background(), bytes.NewReader(b), true)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(files) != 0 {
			t.Errorf("%s: kept %q", p, files)
		}
	}
}

// TestFileList: a python3-*.list as dpkg writes it (directories included)
// keeps the distribution's metadata files only.
func TestFileList(t *testing.T) {
	list := strings.Join([]string{"/.", "/usr", "/usr/lib/python3/dist-packages",
		"/usr/lib/python3/dist-packages/six-1.16.0.dist-info",
		"/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
		"/usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
		"/usr/lib/python3/dist-packages/six.py",
		"/usr/lib/python3/dist-packages/setuptools-66.1.1.egg-info/PKG-INFO",
		"/usr/share/doc/python3-six/copyright", ""}, "\n")
	out, err := analyzeList(t, InfoDir+"python3-six:all.list", []byte(list))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.OwnedFiles{{Path: InfoDir + "python3-six:all.list", Owner: inventory.Owner{Type: inventory.TypeDeb, Name: "python3-six"},
		Files: []string{"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "usr/lib/python3/dist-packages/setuptools-66.1.1.egg-info/PKG-INFO"}}}
	if !reflect.DeepEqual(out.Owned, want) {
		t.Errorf("owned = %+v\nwant %+v", out.Owned, want)
	}
	if _, err := analyzeList(t, StatusDir+"x.md5sums", []byte("no separator here\n")); err == nil {
		t.Error("malformed md5sums gave no error")
	}
	if _, err := analyzeList(t, InfoDir+"x.list", []byte("/"+strings.Repeat("a", maxListLength+1))); err == nil {
		t.Error("overlong line gave no error")
	}
}

func FuzzParseFileList(f *testing.F) {
	f.Add([]byte("/.\n/usr/lib/python3/dist-packages/a-1.dist-info/METADATA\n/x.jar\n"), false)
	f.Add([]byte("d41d8cd98f00b204e9800998ecf8427e  usr/lib/node_modules/a/package.json\n"), true)
	f.Add([]byte("\r\n\n  \n"), true)
	f.Fuzz(func(t *testing.T, b []byte, md5sums bool) {
		files, err := parseFileList(context.Background(), bytes.NewReader(b), md5sums)
		if err != nil {
			return
		}
		for _, p := range files {
			if strings.HasPrefix(p, "/") || !inventory.OwnableFile(p) {
				t.Fatalf("kept %q", p)
			}
		}
	})
}

// BenchmarkParseFileList reads a 2,000-line .list (a large python3-* or
// library package): the per-list cost the dpkg-files analyzer adds.
func BenchmarkParseFileList(b *testing.B) {
	var list strings.Builder
	list.WriteString("/usr/lib/python3/dist-packages/big-1.0.dist-info/METADATA\n")
	for i := range 1999 {
		fmt.Fprintf(&list, "/usr/lib/python3/dist-packages/big/sub%d/module_%d.py\n", i%40, i)
	}
	content := []byte(list.String())
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		files, err := parseFileList(context.Background(), bytes.NewReader(content), false)
		if err != nil || len(files) != 1 {
			b.Fatal(files, err)
		}
	}
}
