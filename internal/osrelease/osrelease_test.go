package osrelease

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// rootContents loads every file under a corpus fixture root, as the image
// merge would hand them to Detect.
func rootContents(t *testing.T, root string) map[string][]byte {
	t.Helper()
	contents := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		contents[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return contents
}

func TestDetectCorpus(t *testing.T) {
	tests := []struct {
		fixture []string
		want    inventory.OS
		eco     string
	}{
		{[]string{"os-release", "claircore-alpine-3.10"}, inventory.OS{Family: "alpine", Version: "3.10.9", Name: "Alpine Linux v3.10"}, "Alpine:v3.10"},
		{[]string{"os-release", "claircore-alpine-3.18"}, inventory.OS{Family: "alpine", Version: "3.18.4", Name: "Alpine Linux v3.18"}, "Alpine:v3.18"},
		{[]string{"os-release", "claircore-alpine-edge"}, inventory.OS{Family: "alpine", Version: "3.19_alpha20230901", Name: "Alpine Linux edge"}, "Alpine:v3.19"},
		{[]string{"os-release", "claircore-debian-8"}, inventory.OS{Family: "debian", Version: "8", Name: "Debian GNU/Linux 8 (jessie)"}, "Debian:8"},
		{[]string{"os-release", "claircore-debian-10"}, inventory.OS{Family: "debian", Version: "10", Codename: "buster", Name: "Debian GNU/Linux 10 (buster)"}, "Debian:10"},
		{[]string{"os-release", "claircore-debian-12"}, inventory.OS{Family: "debian", Version: "12", Codename: "bookworm", Name: "Debian GNU/Linux 12 (bookworm)"}, "Debian:12"},
		{[]string{"os-release", "claircore-distroless-debian-11"}, inventory.OS{Family: "debian", Version: "11", Name: "Distroless", Distroless: true}, "Debian:11"},
		{[]string{"dpkg", "grype-debian8-match-coverage"}, inventory.OS{Family: "debian", Version: "8", Name: "Debian GNU/Linux 8 (jessie)"}, "Debian:8"},
		{[]string{"rpm", "grype-centos-match-coverage"}, inventory.OS{Family: "centos", Version: "8", Name: "CentOS Linux 8 (Core)"}, "CentOS:8"},
		{[]string{"apk", "grype-alpine-match-coverage"}, inventory.OS{Family: "alpine", Version: "3.12.0", Name: "Alpine Linux v3.12"}, "Alpine:v3.12"},
	}
	for _, tt := range tests {
		t.Run(filepath.Join(tt.fixture...), func(t *testing.T) {
			contents := rootContents(t, corpus.Path(t, append([]string{"pkgdb"}, tt.fixture...)...))
			got := Detect(contents)
			if got != tt.want {
				t.Errorf("Detect = %+v, want %+v", got, tt.want)
			}
			if eco := Ecosystem(got); eco != tt.eco {
				t.Errorf("Ecosystem = %q, want %q", eco, tt.eco)
			}
		})
	}
}

func TestDetectEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		contents map[string]string
		want     inventory.OS
		eco      string
	}{
		{"alpine-release refines os-release", map[string]string{
			"etc/os-release": "ID=alpine\nVERSION_ID=3.10\n", "etc/alpine-release": "3.10.4\n"},
			inventory.OS{Family: "alpine", Version: "3.10.4", Name: "Alpine Linux v3.10"}, "Alpine:v3.10"},
		{"alpine-release alone", map[string]string{"etc/alpine-release": "3.9.2\n"},
			inventory.OS{Family: "alpine", Version: "3.9.2", Name: "Alpine Linux v3.9"}, "Alpine:v3.9"},
		{"debian testing has no VERSION_ID", map[string]string{
			"etc/os-release":     "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\nVERSION_CODENAME=trixie\n",
			"etc/debian_version": "trixie/sid\n"},
			inventory.OS{Family: "debian", Version: "trixie/sid", Codename: "trixie", Name: "Debian GNU/Linux trixie/sid"}, "Debian:13"},
		{"debian point release from debian_version", map[string]string{
			"usr/lib/os-release": "ID=debian\nVERSION_ID=\"12\"\n", "etc/debian_version": "12.5\n"},
			inventory.OS{Family: "debian", Version: "12.5", Name: "Debian GNU/Linux 12.5"}, "Debian:12"},
		{"ubuntu ignores debian_version", map[string]string{
			"etc/os-release":     "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n",
			"etc/debian_version": "bookworm/sid\n"},
			inventory.OS{Family: "ubuntu", Version: "22.04", Codename: "jammy", Name: "Ubuntu 22.04.4 LTS"}, "Ubuntu:22.04"},
		{"quotes and escapes", map[string]string{
			"etc/os-release": "# comment\n\nID='rocky'\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky \\\"Blue Onyx\\\"\"\nBROKEN LINE\n"},
			inventory.OS{Family: "rocky", Version: "9.3", Name: `Rocky "Blue Onyx"`}, "Rocky Linux:9"},
		{"centos-release without os-release", map[string]string{"etc/centos-release": "CentOS release 6.10 (Final)\n"},
			inventory.OS{Family: "centos", Version: "6.10", Name: "CentOS release 6.10 (Final)"}, "CentOS:6"},
		{"amazon linux 2", map[string]string{"etc/os-release": "ID=\"amzn\"\nVERSION_ID=\"2\"\n"},
			inventory.OS{Family: "amzn", Version: "2"}, "Amazon Linux:2"},
		{"lsb-release", map[string]string{"etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\nDISTRIB_CODENAME=trusty\nDISTRIB_DESCRIPTION=\"Ubuntu 14.04.6 LTS\"\n"},
			inventory.OS{Family: "ubuntu", Version: "14.04", Codename: "trusty", Name: "Ubuntu 14.04.6 LTS"}, "Ubuntu:14.04"},
		{"SuSE-release", map[string]string{"etc/SuSE-release": "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n"},
			inventory.OS{Family: "sles", Version: "11.4", Name: "SUSE Linux Enterprise Server 11 (x86_64)"}, "SUSE:Linux Enterprise Server 11 SP4"},
		{"distroless by package metadata without a shell", map[string]string{
			"etc/os-release": "ID=debian\nVERSION_ID=12\n", "var/lib/dpkg/status.d/base": ""},
			inventory.OS{Family: "debian", Version: "12", Distroless: true}, "Debian:12"},
		{"status.d with a shell is not distroless", map[string]string{
			"etc/os-release": "ID=debian\nVERSION_ID=12\n", "var/lib/dpkg/status.d/base": "", "bin/sh": ""},
			inventory.OS{Family: "debian", Version: "12"}, "Debian:12"},
		{"wolfi", map[string]string{"etc/os-release": "ID=wolfi\nVERSION_ID=20230201\n"},
			inventory.OS{Family: "wolfi", Version: "20230201"}, "Wolfi"},
		{"nothing", map[string]string{"etc/passwd": "root:x:0:0"}, inventory.OS{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contents := map[string][]byte{}
			for p, s := range tt.contents {
				contents[p] = []byte(s)
			}
			got := Detect(contents)
			if got != tt.want {
				t.Errorf("Detect = %+v, want %+v", got, tt.want)
			}
			if eco := Ecosystem(got); eco != tt.eco {
				t.Errorf("Ecosystem = %q, want %q", eco, tt.eco)
			}
		})
	}
}

func TestEcosystem(t *testing.T) {
	tests := []struct {
		os   inventory.OS
		want string
	}{
		{inventory.OS{Family: "almalinux", Version: "9.4"}, "AlmaLinux:9"},
		{inventory.OS{Family: "rhel", Version: "8.10"}, "Red Hat:8"},
		{inventory.OS{Family: "amzn", Version: "2023"}, "Amazon Linux:2023"},
		{inventory.OS{Family: "opensuse-leap", Version: "15.5"}, "openSUSE:Leap 15.5"},
		{inventory.OS{Family: "sles", Version: "15.5"}, "SUSE:Linux Enterprise Server 15 SP5"},
		{inventory.OS{Family: "chainguard"}, "Chainguard"},
		{inventory.OS{Family: "debian", Version: "sid"}, ""},
		{inventory.OS{Family: "alpine", Version: "edge"}, ""},
		{inventory.OS{Family: "ubuntu"}, ""},
		// Malformed versions give no key rather than a wrong one.
		{inventory.OS{Family: "alpine", Version: "v3.10"}, ""},
		{inventory.OS{Family: "alpine", Version: "3.x"}, ""},
		{inventory.OS{Family: "alpine", Version: "3.21.0_alpha20240807"}, "Alpine:v3.21"},
		{inventory.OS{Family: "ubuntu", Version: "x.04"}, ""},
		{inventory.OS{Family: "mariner", Version: "2.0.20240123"}, "Mariner:2.0"},
		{inventory.OS{Family: "photon", Version: "."}, ""},
		{inventory.OS{Family: "sles", Version: "15.x"}, "SUSE:Linux Enterprise Server 15"},
		{inventory.OS{Family: "sles", Version: "12.0"}, "SUSE:Linux Enterprise Server 12"},
		{inventory.OS{Family: "debian", Version: "trixie/sid"}, "Debian:13"},
		{inventory.OS{Family: "debian", Codename: "bookworm"}, "Debian:12"},
		{inventory.OS{Family: "debian", Version: "/sid"}, ""},
		{inventory.OS{}, ""},
	}
	for _, tt := range tests {
		if got := Ecosystem(tt.os); got != tt.want {
			t.Errorf("Ecosystem(%+v) = %q, want %q", tt.os, got, tt.want)
		}
	}
}

func TestAnalyzer(t *testing.T) {
	a := Analyzer()
	claims := map[string]bool{
		"etc/os-release": true, "usr/lib/os-release": true, "etc/alpine-release": true, "bin/sh": true,
		"var/lib/dpkg/status.d/libc6": true, "var/lib/dpkg/status.d/x/y": false, "etc/passwd": false, "etc/os-release.bak": false,
	}
	for p, want := range claims {
		if got := a.Claims(p, 0o644, 10); got != want {
			t.Errorf("Claims(%s) = %v, want %v", p, got, want)
		}
	}
	out := &inventory.LayerResult{}
	if err := a.Analyze(context.Background(), inventory.NewFileBytes("etc/os-release", 0o644, []byte("ID=alpine\n")), out); err != nil {
		t.Fatal(err)
	}
	if err := a.Analyze(context.Background(), inventory.NewFileBytes("bin/sh", 0o755, make([]byte, 1000)), out); err != nil {
		t.Fatal(err)
	}
	if string(out.Files["etc/os-release"]) != "ID=alpine\n" || out.Files["bin/sh"] == nil || len(out.Files["bin/sh"]) != 0 {
		t.Errorf("files = %q", out.Files)
	}
	big := inventory.NewFileBytes("etc/os-release", 0o644, make([]byte, maxReleaseFile+1))
	if err := a.Analyze(context.Background(), big, out); err == nil {
		t.Error("oversized os-release accepted")
	}
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte("ID=alpine\nVERSION_ID=3.10.4\n"), []byte("3.10.4\n"))
	f.Add([]byte("PRETTY_NAME=\"Distroless\"\nID=\"debian\"\nVERSION_ID=\"11\"\n"), []byte("trixie/sid"))
	f.Add([]byte("ID='x\nVERSION_ID=\"\\"), []byte("CentOS release \n"))
	f.Fuzz(func(t *testing.T, osRelease, other []byte) {
		for _, p := range []string{"etc/alpine-release", "etc/debian_version", "etc/centos-release", "etc/lsb-release", "etc/SuSE-release", "etc/photon-release", "etc/mariner-release"} {
			o := Detect(map[string][]byte{"etc/os-release": osRelease, p: other})
			_ = Ecosystem(o)
			o = Detect(map[string][]byte{p: other})
			_ = Ecosystem(o)
		}
	})
}
