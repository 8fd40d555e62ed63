package sbomin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
)

// dpkgComponents are CycloneDX components for the packages of the
// corpus's Ubuntu 18.04 dpkg status file, replicated with numbered names
// until they take about size bytes.
func dpkgComponents(t *testing.T, size int) []byte {
	t.Helper()
	f, err := os.Open(corpus.Path(t, "pkgdb", "dpkg", "claircore-ubuntu1804-texlive", "var", "lib", "dpkg", "status"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type pkg struct{ name, version string }
	var (
		pkgs []pkg
		cur  pkg
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Package: "); ok {
			cur = pkg{name: v}
		} else if v, ok := strings.CutPrefix(sc.Text(), "Version: "); ok && cur.name != "" {
			cur.version = v
			pkgs = append(pkgs, cur)
			cur = pkg{}
		}
	}
	if len(pkgs) < 100 {
		t.Fatalf("%d packages in the status file", len(pkgs))
	}
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		p := pkgs[i%len(pkgs)]
		name := fmt.Sprintf("%s-%d", p.name, i/len(pkgs))
		c, _ := json.Marshal(map[string]string{"type": "library", "name": name, "version": p.version,
			"purl": fmt.Sprintf("pkg:deb/ubuntu/%s@%s?arch=amd64&distro=ubuntu-18.04", name, p.version)})
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(c)
	}
	return []byte(b.String())
}

// A file that cannot be streamed is read whole up to WholeReadMax and
// refused above it, saying why; a byte-order mark no longer prevents
// streaming.
func TestWholeReadBound(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cdxDoc := func(components []byte, extra string) string {
		return `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,` + extra + ` "components": [` + string(components) + `]}`
	}
	small, large := dpkgComponents(t, 200<<10), dpkgComponents(t, WholeReadMax+(1<<20))
	want, err := ReadFile(context.Background(), write("small.cdx.json", cdxDoc(small, "")))
	if err != nil {
		t.Fatal(err)
	}
	// Duplicate keys: read whole when small, refused when large.
	got, err := ReadFile(context.Background(), write("dup-small.cdx.json", cdxDoc(small, ` "version": 1,`)))
	if err != nil || len(got.Packages) != len(want.Packages) {
		t.Fatalf("small file with a repeated key: %v", err)
	}
	path := write("dup-large.cdx.json", cdxDoc(large, ` "version": 1,`))
	_, err = ReadFile(context.Background(), path)
	if !errors.Is(err, ErrNotStreamable) || !strings.Contains(err.Error(), `the key "version" is repeated`) || !strings.Contains(err.Error(), "16 MiB") {
		t.Errorf("large file with a repeated key: %v", err)
	}
	// SPDX JSON older than 2.3 (tools-golang converts it whole).
	spdx22 := func(n int) string {
		var pk []string
		for i := range n {
			pk = append(pk, fmt.Sprintf(`{"SPDXID": "SPDXRef-p%d", "name": "p%d", "versionInfo": "1.0-%s", "downloadLocation": "NOASSERTION", "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:deb/ubuntu/p%d@1.0?distro=ubuntu-18.04"}]}`, i, i, strings.Repeat("x", 100), i))
		}
		return `{"spdxVersion": "SPDX-2.2", "SPDXID": "SPDXRef-DOCUMENT", "name": "d", "dataLicense": "CC0-1.0", "documentNamespace": "https://example.com/d", "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: x"]}, "packages": [` + strings.Join(pk, ",") + `]}`
	}
	if inv, err := ReadFile(context.Background(), write("small.spdx22.json", spdx22(10))); err != nil || len(inv.Packages) != 10 {
		t.Fatalf("small SPDX 2.2: %v", err)
	}
	_, err = ReadFile(context.Background(), write("large.spdx22.json", spdx22(WholeReadMax/250)))
	if !errors.Is(err, ErrNotStreamable) || !strings.Contains(err.Error(), `spdxVersion "SPDX-2.2"`) {
		t.Errorf("large SPDX 2.2: %v", err)
	}
	// A byte-order mark is skipped, and the file streamed.
	plain, err := ReadFile(context.Background(), write("large.cdx.json", cdxDoc(large, "")))
	if err != nil {
		t.Fatal(err)
	}
	bom, err := ReadFile(context.Background(), write("bom-large.cdx.json", "\xef\xbb\xbf"+cdxDoc(large, "")))
	if err != nil || len(bom.Packages) != len(plain.Packages) || len(plain.Packages) < 100_000 {
		t.Errorf("large file with a byte-order mark: %v", err)
	}
	// A pipe is read whole, so up to WholeReadMax.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			_, _ = w.WriteString(cdxDoc(large, ""))
			w.Close()
		}
	}()
	if _, err := ReadFile(context.Background(), fifo); err == nil || !strings.Contains(err.Error(), "larger than 16 MiB; not read (a pipe is read whole") {
		t.Errorf("large pipe: %v", err)
	}
	// Over MaxBytes: refused before reading (a sparse file).
	sparse := filepath.Join(dir, "sparse.json")
	if err := os.WriteFile(sparse, []byte("{"), 0o644); err != nil || os.Truncate(sparse, MaxBytes+1) != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(context.Background(), sparse); err == nil || !strings.Contains(err.Error(), "larger than 256 MiB") {
		t.Errorf("file over MaxBytes: %v", err)
	}
	// Nothing a streaming reader takes.
	_, err = ReadFile(context.Background(), write("large.txt", strings.Repeat("not an SBOM\n", WholeReadMax/10)))
	if !errors.Is(err, ErrNotStreamable) {
		t.Errorf("large text: %v", err)
	}
}
