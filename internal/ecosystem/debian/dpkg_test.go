package debian

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// countInstalled counts installed paragraphs with regular expressions over
// the whole file, independently of the parser. A paragraph without Status
// is installed only in a status.d file (statusDir).
func countInstalled(t *testing.T, content string, statusDir bool) int {
	t.Helper()
	pkg := regexp.MustCompile(`(?m)^Package: *\S`)
	ver := regexp.MustCompile(`(?m)^Version: *\S`)
	status := regexp.MustCompile(`(?m)^Status:.*$`)
	n := 0
	for _, para := range strings.Split(strings.ReplaceAll(content, "\r\n", "\n"), "\n\n") {
		if !pkg.MatchString(para) || !ver.MatchString(para) {
			continue
		}
		if s := status.FindString(para); s == "" && statusDir || strings.HasSuffix(s, " installed") && !strings.Contains(s, "half") {
			n++
		}
	}
	return n
}

// purlNames reports whether purl is a debian deb purl for name.
func purlNames(purl, name string) bool {
	u, err := packageurl.FromString(purl)
	return err == nil && u.Type == "deb" && u.Namespace == "debian" && u.Name == name
}

func analyze(t *testing.T, imagePath, file string) (*inventory.LayerResult, error) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a := Analyzers()[0]
	if !a.Claims(imagePath, 0o644, int64(len(b))) {
		t.Fatalf("%s not claimed", imagePath)
	}
	out := &inventory.LayerResult{}
	err = a.Analyze(context.Background(), inventory.NewFileBytes(imagePath, 0o644, b), out)
	return out, err
}

func TestAnalyzeStatusCorpus(t *testing.T) {
	tests := []struct {
		fixture, file, imagePath string
		want, wantWarnings       int
	}{
		{"claircore-ubuntu1804-texlive", StatusPath, StatusPath, 357, 0},
		{"claircore-debian10-postgresql", StatusPath, StatusPath, 3, 0},
		{"claircore-debian-only", StatusPath, StatusPath, 1, 0},
		{"syft-image-dpkg", StatusPath, StatusPath, 1, 1},
		{"grype-debian8-match-coverage", StatusPath, StatusPath, 1, 0},
		{"syft-distroless", StatusDir + "libsqlite3-0", StatusDir + "libsqlite3-0", 1, 0},
		{"scalibr-statusd", StatusDir + "foo", StatusDir + "foo", 1, 0},
		{"syft-status-multiple", "status", StatusDir + "multiple", 2, 2},
		{"syft-coreutils-relationships", "status", StatusDir + "coreutils", 9, 0},
		{"scalibr-valid", "status", StatusPath, 7, 0},
		// The same Status-less control paragraphs in dpkg's own database
		// are not installed (dpkg's rule).
		{"syft-distroless", StatusDir + "libsqlite3-0", StatusPath, 0, 0},
		{"scalibr-statusd", StatusDir + "foo", StatusPath, 0, 0},
		{"syft-status-multiple", "status", StatusPath, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			file := corpus.Path(t, "pkgdb", "dpkg", tt.fixture, filepath.FromSlash(tt.file))
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if got := countInstalled(t, string(b), strings.HasPrefix(tt.imagePath, StatusDir)); got != tt.want {
				t.Fatalf("independent count %d, table says %d", got, tt.want)
			}
			out, err := analyze(t, tt.imagePath, file)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Packages) != tt.want {
				t.Errorf("packages = %d, want %d", len(out.Packages), tt.want)
			}
			if len(out.Warnings) != tt.wantWarnings {
				t.Errorf("warnings = %q, want %d", out.Warnings, tt.wantWarnings)
			}
			for _, p := range out.Packages {
				if p.Name == "" || p.Version == "" || p.Source == nil || p.Source.Name == "" || p.Source.Version == "" ||
					p.Type != inventory.TypeDeb || p.Path != tt.imagePath || !purlNames(p.PURL, p.Name) {
					t.Errorf("incomplete package %+v", p)
				}
			}
		})
	}
}

func TestAnalyzeStatusFields(t *testing.T) {
	file := corpus.Path(t, "pkgdb", "dpkg", "claircore-debian10-postgresql", "var", "lib", "dpkg", "status")
	out, err := analyze(t, StatusPath, file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(file)
	// The first paragraph's Source carries a version in parentheses.
	m := regexp.MustCompile(`(?m)^Package: (\S+)\n(?:.+\n)*?Source: (\S+) \((\S+)\)`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("fixture has no Source with version")
	}
	found := false
	for _, p := range out.Packages {
		if p.Name == m[1] {
			found = true
			if p.Source.Name != m[2] || p.Source.Version != m[3] || p.Source.Version == p.Version {
				t.Errorf("%s source = %+v (version %s), want %s (%s)", p.Name, p.Source, p.Version, m[2], m[3])
			}
		}
	}
	if !found {
		t.Errorf("package %s missing", m[1])
	}

	out, err = analyze(t, StatusDir+"multiple", corpus.Path(t, "pkgdb", "dpkg", "syft-status-multiple", "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range out.Packages {
		if p.Name == "tzdata" && (p.Source.Name != "tzdata-dev" || p.Source.Version != "2020a-0+deb10u1" ||
			p.PURL != "pkg:deb/debian/tzdata@2020a-0%2Bdeb10u1?arch=all") {
			t.Errorf("tzdata = %+v", p)
		}
		if p.Name == "util-linux" && (p.Source.Name != "util-linux" || p.Arch != "amd64") {
			t.Errorf("util-linux = %+v", p)
		}
	}
}

func TestParseStatusEpochAndStates(t *testing.T) {
	doc := "Package: vim\nStatus: install ok installed\nVersion: 2:8.0-1\nArchitecture: amd64\nDescription: x\n long text\n .\n more\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
		"Package: half\nStatus: install reinstreq half-installed\nVersion: 1\n"
	pkgs, _, err := parseStatus(context.Background(), strings.NewReader(doc), StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].Version != "2:8.0-1" || pkgs[0].Source.Version != "2:8.0-1" {
		t.Errorf("got %+v", pkgs)
	}
}

// Odd Status values: a package whose triggers are pending or awaited is
// configured (dpkg counts it installed, its files are in place) and was
// dropped; a malformed or partial state is not installed.
func TestParseStatusValues(t *testing.T) {
	in := map[string]bool{
		"install ok installed":             true,
		"install ok triggers-pending":      true,
		"install ok triggers-awaited":      true,
		"hold ok installed":                true,
		"deinstall ok installed":           true, // selected for removal, still there
		"install ok unpacked":              false,
		"install ok half-configured":       false,
		"install reinstreq half-installed": false,
		"purge ok not-installed":           false,
		"install ok":                       false,
		"install ok installed extra":       false,
		"":                                 false,
	}
	for status, want := range in {
		doc := "Package: p\nStatus: " + status + "\nVersion: 1\n"
		pkgs, _, err := parseStatus(context.Background(), strings.NewReader(doc), StatusPath)
		if err != nil {
			t.Fatalf("%q: %v", status, err)
		}
		if got := len(pkgs) == 1; got != want {
			t.Errorf("Status: %q: installed = %v, want %v", status, got, want)
		}
	}
}

// TestParseStatusWithoutStatusField: dpkg's database lists packages it
// only knows of (selected, never unpacked) without a Status field; they are
// not installed. A status.d control file has none and is installed.
func TestParseStatusWithoutStatusField(t *testing.T) {
	doc := "Package: known\nVersion: 1.0\nArchitecture: amd64\n\n" +
		"Package: real\nStatus: install ok installed\nVersion: 2.0\n"
	pkgs, _, err := parseStatus(context.Background(), strings.NewReader(doc), StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].Name != "real" {
		t.Errorf("status: got %+v, want only real", pkgs)
	}
	pkgs, _, err = parseStatus(context.Background(), strings.NewReader(doc), StatusDir+"known")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 {
		t.Errorf("status.d: got %+v, want both", pkgs)
	}
}

func TestParseStatusErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"no colon":         "hello\n",
		"leading continue": " indented\n",
		"key with space":   "Pack age: x\n",
		"line too long":    "Package: " + strings.Repeat("a", maxLineLength),
		"binary":           "\x7fELF\x02\x01\x01",
	} {
		if _, _, err := parseStatus(context.Background(), strings.NewReader(doc), StatusPath); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestClaims(t *testing.T) {
	a := Analyzers()[0]
	for path, want := range map[string]bool{
		StatusPath:                    true,
		StatusDir + "base":            true,
		StatusDir + "base.md5sums":    false,
		StatusDir + "sub/x":           false,
		StatusDir:                     false,
		"var/lib/dpkg/status-old":     false,
		"var/lib/dpkg/info/x.md5sums": false,
		"usr/var/lib/dpkg/status":     false,
	} {
		if got := a.Claims(path, 0o644, 1); got != want {
			t.Errorf("Claims(%q) = %v", path, got)
		}
	}
	if a.Claims(StatusPath, fs.ModeDir, 0) {
		t.Error("claims a directory")
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1:2-3\nSource: b (4)\nArchitecture: amd64\n\nPackage:\n"))
	f.Add([]byte("Package: a\nVersion: 1\nDescription: x\n y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _, err := parseStatus(context.Background(), strings.NewReader(string(b)), StatusPath)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Source == nil {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func BenchmarkParseStatus(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "pkgdb", "dpkg", "claircore-ubuntu1804-texlive", "var", "lib", "dpkg", "status"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := parseStatus(context.Background(), bytes.NewReader(data), StatusPath); err != nil {
			b.Fatal(err)
		}
	}
}
