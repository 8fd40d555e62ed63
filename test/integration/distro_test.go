package integration

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// debianRootfs is an unpacked Debian root filesystem: the corpus's real
// os-release of release and a one-stanza dpkg status (a fixture written
// for this test) with libssl1.1 built from openssl 1.1.1d-0+deb10u6.
func debianRootfs(t *testing.T, release string) string {
	t.Helper()
	dir := t.TempDir()
	osRelease, err := os.ReadFile(corpus.Path(t, "pkgdb", "os-release", release, "etc", "os-release"))
	if err != nil {
		t.Fatal(err)
	}
	status := "Package: libssl1.1\nStatus: install ok installed\nPriority: optional\nSection: libs\n" +
		"Architecture: amd64\nSource: openssl\nVersion: 1.1.1d-0+deb10u6\nDescription: Secure Sockets Layer toolkit\n\n"
	for p, b := range map[string][]byte{"etc/os-release": osRelease, "var/lib/dpkg/status": []byte(status)} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Debian findings come from the DSA list by SOURCE package and release
// codename, compared with dpkg's rules: the fix released at exactly the
// installed version (DSA-4875-1, CVE-2021-3449, 1.1.1d-0+deb10u6) is not
// reported, the later ones are; the same package on Debian 12 gets none of
// the buster advisories.
func TestDebianSourcePackageMatching(t *testing.T) {
	dir := t.TempDir()
	res := vigil(t, dir, nil, "image", "dir:"+debianRootfs(t, "claircore-debian-10"), "--format", "json=r.json", "--checks=false", "--secrets=false")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	r := readReport(t, filepath.Join(dir, "r.json"))
	got := map[string]vuln.Finding{}
	for _, f := range r.Vulnerabilities {
		got[f.ID] = f
	}
	for _, id := range []string{"CVE-2021-3711", "CVE-2021-3712", "CVE-2021-4160", "CVE-2022-0778", "CVE-2022-1292", "CVE-2022-2068"} {
		f, ok := got[id]
		if !ok {
			t.Errorf("missing %s; got %v", id, ids(r.Vulnerabilities))
			continue
		}
		if f.Package.Ecosystem != "Debian:10" || f.Package.Source == nil || f.Package.Source.Name != "openssl" {
			t.Errorf("%s: package %+v", id, f.Package)
		}
		if f.FixState != vuln.FixStateFixed || len(f.FixedVersions) == 0 || !strings.Contains(f.Remediation, "apt-get install --only-upgrade") {
			t.Errorf("%s: fix %v %v, remediation %q", id, f.FixState, f.FixedVersions, f.Remediation)
		}
		if !slices.ContainsFunc(f.Advisories, func(a string) bool { return strings.HasPrefix(a, "DSA-") }) || !strings.HasPrefix(f.Title, "DSA-") {
			t.Errorf("%s: advisories %v, title %q: want the DSA", id, f.Advisories, f.Title)
		}
	}
	if _, ok := got["CVE-2021-3449"]; ok {
		t.Error("CVE-2021-3449 is fixed in exactly the installed 1.1.1d-0+deb10u6 and must not be reported")
	}

	res = vigil(t, dir, nil, "image", "dir:"+debianRootfs(t, "claircore-debian-12"), "--format", "json=r12.json", "--checks=false", "--secrets=false")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	r12 := readReport(t, filepath.Join(dir, "r12.json"))
	for _, f := range r12.Vulnerabilities {
		if _, buster := got[f.ID]; buster {
			t.Errorf("Debian 12 got the buster advisory %s", f.ID)
		}
	}
}

// The corpus's Alpine 3.10.4 packages yield nothing against the v3.10
// secdb (above), but the same package database on an Alpine 3.11 system
// is matched against the v3.11 branch, whose secfixes name later fixes:
// exactly the four hits the corpus MANIFEST derives by hand (musl and
// musl-utils: CVE-2019-14697; libcrypto1.1 and libssl1.1: CVE-2019-1551).
// The release decides.
func TestAlpineReleaseAwareMatching(t *testing.T) {
	dir := t.TempDir()
	root := t.TempDir()
	apkDB := extractFromImage(t, "lib/apk/db/installed")
	os.MkdirAll(filepath.Join(root, "lib", "apk", "db"), 0o755)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "lib", "apk", "db", "installed"), apkDB, 0o644)
	os.WriteFile(filepath.Join(root, "etc", "os-release"), []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.11.3\n"), 0o644)
	res := vigil(t, dir, nil, "image", "dir:"+root, "--format", "json=r.json", "--checks=false", "--secrets=false")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	r := readReport(t, filepath.Join(dir, "r.json"))
	if len(r.Packages) != 14 {
		t.Fatalf("packages = %d", len(r.Packages))
	}
	var got []string
	for _, f := range r.Vulnerabilities {
		got = append(got, f.Package.Name+" "+f.ID)
		if f.Package.Ecosystem != "Alpine:v3.11" {
			t.Errorf("%s: ecosystem %s", f.ID, f.Package.Ecosystem)
		}
	}
	slices.Sort(got)
	want := []string{"libcrypto1.1 CVE-2019-1551", "libssl1.1 CVE-2019-1551", "musl CVE-2019-14697", "musl-utils CVE-2019-14697"}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %v, want %v", got, want)
	}
}

// extractFromImage returns one file of the corpus image's flattened
// filesystem.
func extractFromImage(t *testing.T, name string) []byte {
	t.Helper()
	rc := mutate.Extract(alpine310(t))
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the image: %v", name, err)
		}
		if strings.TrimPrefix(hdr.Name, "/") == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}
