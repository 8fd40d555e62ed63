package rpm

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// analyze runs the analyzer that claims imagePath over the corpus file.
func analyze(t *testing.T, imagePath, file string) (*inventory.LayerResult, error) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Analyzers() {
		if !a.Claims(imagePath, 0o644, int64(len(b))) {
			continue
		}
		f := inventory.NewFile(imagePath, 0o644, int64(len(b)), strings.NewReader(string(b)), t.TempDir(), 0)
		defer f.Close()
		out := &inventory.LayerResult{}
		return out, a.Analyze(context.Background(), f, out)
	}
	t.Fatalf("no analyzer claims %s", imagePath)
	return nil, nil
}

// sqliteRows counts the Packages rows of an rpm sqlite database directly.
func sqliteRows(t *testing.T, file string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM Packages").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// libraryCount counts the entries of a database with go-rpmdb directly:
// all of them, and those that are not gpg-pubkey keys.
func libraryCount(t *testing.T, file string) (all, software int) {
	t.Helper()
	db, err := rpmdb.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	infos, err := db.ListPackages()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range infos {
		if p.Name != "gpg-pubkey" {
			software++
		}
	}
	return len(infos), software
}

func TestAnalyzeDatabasesCorpus(t *testing.T) {
	tests := []struct {
		fixture, file string
		entries       int // all entries, gpg-pubkey included; -1 when unknown
	}{
		{"gorpmdb-amazonlinux2023", "var/lib/rpm/rpmdb.sqlite", 103},
		{"gorpmdb-sle15-bci", "var/lib/rpm/Packages.db", -1},
		{"gorpmdb-libuuid", "var/lib/rpm/Packages", -1},
		{"syft-redhat", "var/lib/rpm/Packages", 1},
		{"grype-centos-match-coverage", "var/lib/rpm/Packages", 1},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			file := corpus.Path(t, "pkgdb", "rpm", tt.fixture, filepath.FromSlash(tt.file))
			all, want := libraryCount(t, file)
			if tt.entries >= 0 && all != tt.entries {
				t.Fatalf("go-rpmdb counts %d, table says %d", all, tt.entries)
			}
			if strings.HasSuffix(file, ".sqlite") && sqliteRows(t, file) != all {
				t.Fatalf("sqlite rows %d != go-rpmdb %d", sqliteRows(t, file), all)
			}
			out, err := analyze(t, tt.file, file)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Packages) != want || want == 0 {
				t.Errorf("packages = %d, want %d", len(out.Packages), want)
			}
			for _, p := range out.Packages {
				u, err := packageurl.FromString(p.PURL)
				if p.Name == "" || p.Version == "" || p.Type != inventory.TypeRPM || p.Path != tt.file ||
					err != nil || u.Type != "rpm" || u.Name != p.Name {
					t.Errorf("incomplete package %+v (%v)", p, err)
				}
				if p.Name == "gpg-pubkey" {
					t.Error("gpg-pubkey reported")
				}
			}
		})
	}
}

func TestAnalyzeDatabaseFields(t *testing.T) {
	out, err := analyze(t, "var/lib/rpm/Packages", corpus.Path(t, "pkgdb", "rpm", "syft-redhat", "var", "lib", "rpm", "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Packages) != 1 {
		t.Fatalf("got %d packages", len(out.Packages))
	}
	p := out.Packages[0]
	if p.Name != "dive" || p.Version != "0.9.2-1" || p.Arch != "x86_64" || p.Source == nil ||
		p.Source.Name != "dive" || p.Source.Version != "0.9.2-1" || p.PURL != "pkg:rpm/redhat/dive@0.9.2-1?arch=x86_64" {
		t.Errorf("dive = %+v source %+v", p, p.Source)
	}

	out, err = analyze(t, "usr/lib/sysimage/rpm/rpmdb.sqlite", corpus.Path(t, "pkgdb", "rpm", "gorpmdb-amazonlinux2023", "var", "lib", "rpm", "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	withEpoch, withSource, withLicense := 0, 0, 0
	for _, p := range out.Packages {
		if strings.Contains(p.Version, ":") {
			withEpoch++
			if !strings.Contains(p.PURL, "epoch=") {
				t.Errorf("%s: epoch missing from purl %s", p.Name, p.PURL)
			}
		}
		if p.Source != nil && p.Source.Name != "" {
			withSource++
		}
		if len(p.Licenses) == 1 {
			withLicense++
		}
	}
	if withEpoch == 0 || withSource != len(out.Packages) || withLicense != len(out.Packages) {
		t.Errorf("epochs %d, sources %d, licences %d of %d", withEpoch, withSource, withLicense, len(out.Packages))
	}
}

func TestAnalyzeDatabaseCorrupt(t *testing.T) {
	empty := corpus.Path(t, "pkgdb", "rpm", "claircore-empty-sqlite", "rpmdb.sqlite")
	if _, err := analyze(t, "var/lib/rpm/rpmdb.sqlite", empty); err == nil {
		t.Error("sqlite without Packages table gave no error")
	}
	// The apk corrupt fixture is text, not any rpm database format.
	text := corpus.Path(t, "pkgdb", "apk", "syft-corrupt", "lib", "apk", "db", "installed")
	for _, path := range []string{"var/lib/rpm/Packages", "var/lib/rpm/Packages.db", "var/lib/rpm/rpmdb.sqlite"} {
		if _, err := analyze(t, path, text); err == nil {
			t.Errorf("%s: text file gave no error", path)
		}
	}
}

func TestParseManifestCorpus(t *testing.T) {
	file := corpus.Path(t, "pkgdb", "rpm", "syft-mariner-distroless", filepath.FromSlash(ManifestPath))
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Count(strings.TrimSpace(string(b)), "\n") + 1
	out, err := analyze(t, ManifestPath, file)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Packages) != want || len(out.Warnings) != 0 {
		t.Fatalf("packages = %d, want %d (warnings %q)", len(out.Packages), want, out.Warnings)
	}
	byName := map[string]inventory.Package{}
	for _, p := range out.Packages {
		byName[p.Name] = p
	}
	ssl := byName["openssl-libs"]
	if ssl.Version != "1.1.1k-15.cm2" || ssl.Source == nil || ssl.Source.Name != "openssl" || ssl.Source.Version != "1.1.1k-15.cm2" || ssl.Arch != "x86_64" {
		t.Errorf("openssl-libs = %+v", ssl)
	}
	vim := byName["vim"]
	if vim.Version != "2:9.0-1.cm2" || vim.PURL != "pkg:rpm/redhat/vim@9.0-1.cm2?arch=x86_64&epoch=2" || vim.Source.Version != "2:9.0-1.cm2" {
		t.Errorf("vim = %+v", vim)
	}
}

func TestParseManifestErrors(t *testing.T) {
	if _, _, err := parseManifest(context.Background(), strings.NewReader("not a manifest\n"), ManifestPath); err == nil {
		t.Error("text accepted")
	}
	pkgs, warnings, err := parseManifest(context.Background(), strings.NewReader("a\t1-1\t0\t0\tv\t(none)\t1\tx86_64\t0\ta-1-1.src.rpm\nshort\n"), ManifestPath)
	if err != nil || len(pkgs) != 1 || len(warnings) != 1 {
		t.Errorf("pkgs %d warnings %d err %v", len(pkgs), len(warnings), err)
	}
	long := "a\t1-1\t0\t0\tv\t(none)\t1\tx86_64\t0\ta-1-1.src.rpm\n" + strings.Repeat("x", maxManifestLine+1) + "\n"
	if _, _, err := parseManifest(context.Background(), strings.NewReader(long), ManifestPath); err == nil || !strings.Contains(err.Error(), "line 2: longer than") {
		t.Errorf("over-long line: err = %v", err)
	}
}

func TestSourceOf(t *testing.T) {
	tests := []struct {
		in          string
		epoch       int
		name, ver   string
		wantMissing bool
	}{
		{"openssl-1.1.1k-15.cm2.src.rpm", 0, "openssl", "1.1.1k-15.cm2", false},
		{"vim-9.0-1.cm2.src.rpm", 2, "vim", "2:9.0-1.cm2", false},
		{"python-six-1.16.0-2.fc36.src.rpm", 0, "python-six", "1.16.0-2.fc36", false},
		{"kernel-5.14.0-1.nosrc.rpm", 0, "kernel", "5.14.0-1", false},
		{"", 0, "", "", true},
		{"noversion.src.rpm", 0, "", "", true},
		{"a-1.src.rpm", 0, "", "", true},
	}
	for _, tt := range tests {
		got := sourceOf(tt.in, tt.epoch)
		if tt.wantMissing {
			if got != nil {
				t.Errorf("sourceOf(%q) = %+v, want nil", tt.in, got)
			}
			continue
		}
		if got == nil || got.Name != tt.name || got.Version != tt.ver {
			t.Errorf("sourceOf(%q) = %+v", tt.in, got)
		}
	}
}

func TestClaims(t *testing.T) {
	claimed := func(path string, mode fs.FileMode) bool {
		for _, a := range Analyzers() {
			if a.Claims(path, mode, 1) {
				return true
			}
		}
		return false
	}
	for path, want := range map[string]bool{
		"var/lib/rpm/Packages": true, "var/lib/rpm/rpmdb.sqlite": true, "var/lib/rpm/Packages.db": true,
		"usr/lib/sysimage/rpm/rpmdb.sqlite": true, ManifestPath: true,
		"var/lib/rpm/Name": false, "var/lib/rpm/rpmdb.sqlite-shm": false, "var/lib/rpmmanifest/container-manifest-1": false,
	} {
		if got := claimed(path, 0o644); got != want {
			t.Errorf("Claims(%q) = %v", path, got)
		}
	}
	if claimed("var/lib/rpm/Packages", fs.ModeSymlink) {
		t.Error("claims a symlink")
	}
}

// FuzzReadDatabase feeds arbitrary bytes to the rpm database readers under
// each of the three formats' file names, seeded with the corpus databases'
// first pages.
func FuzzReadDatabase(f *testing.F) {
	f.Add([]byte("SQLite format 3\x00"), uint8(2))
	f.Add(make([]byte, 512), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, kind uint8) {
		names := []string{"Packages", "Packages.db", "rpmdb.sqlite"}
		name := names[int(kind)%len(names)]
		file := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		pkgs, owned, err := readDatabase(context.Background(), file, "var/lib/rpm/"+name)
		if err == nil {
			for _, p := range pkgs {
				if p.Name == "" {
					t.Fatalf("empty name %+v", p)
				}
			}
			for _, o := range owned {
				for _, f := range o.Files {
					if strings.HasPrefix(f, "/") || !inventory.OwnableFile(f) {
						t.Fatalf("kept %q", f)
					}
				}
			}
		}
	})
}

func TestCheckSQLiteRejectsNullBlobs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)",
		"INSERT INTO Packages (blob) VALUES (NULL)",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if _, _, err := readDatabase(context.Background(), file, "var/lib/rpm/rpmdb.sqlite"); err == nil {
		t.Error("null blob accepted")
	}
}

// TestOwnedFilesCorpus: Amazon Linux 2023's rpmdb installs three Python
// distributions from rpms (distutils .egg-info file and directory forms);
// the other databases install none.
func TestOwnedFilesCorpus(t *testing.T) {
	file := corpus.Path(t, "pkgdb", "rpm", "gorpmdb-amazonlinux2023", "var/lib/rpm/rpmdb.sqlite")
	_, owned, err := readDatabase(context.Background(), file, "var/lib/rpm/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, o := range owned {
		if o.Owner.Type != inventory.TypeRPM || o.Path != "var/lib/rpm/rpmdb.sqlite" {
			t.Errorf("owned = %+v", o)
		}
		got[o.Owner.Name] = o.Files
	}
	sp := "usr/lib64/python3.9/site-packages/"
	want := map[string][]string{
		"python3-gpg":      {sp + "gpg-1.15.1-py3.9.egg-info"},
		"python3-libcomps": {sp + "libcomps-0.1.18-py3.9.egg-info/PKG-INFO"},
		"python3-rpm":      {sp + "rpm-4.16.1.3-py3.9.egg-info"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("owned files = %v\nwant %v", got, want)
	}
	for _, db := range []string{"gorpmdb-sle15-bci/var/lib/rpm/Packages.db", "gorpmdb-libuuid/var/lib/rpm/Packages"} {
		_, owned, err := readDatabase(context.Background(), corpus.Path(t, "pkgdb", "rpm", db), "var/lib/rpm/Packages")
		if err != nil {
			t.Fatal(err)
		}
		if len(owned) != 0 {
			t.Errorf("%s: owned = %+v", db, owned)
		}
	}
}
