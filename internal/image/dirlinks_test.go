//go:build unix

package image

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// An unpacked root filesystem (dir:) resolves symlinked os-release and
// package databases inside its root, as an image does: absolute links start
// at the root, ".." stops at it, the host's files are never read.
func TestDirSymlinkedDatabases(t *testing.T) {
	apkDB := corpusFile(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed")
	dpkgDB := corpusFile(t, "pkgdb", "dpkg", "claircore-debian10-postgresql", "var", "lib", "dpkg", "status")
	rpmDB := corpusFile(t, "pkgdb", "rpm", "syft-redhat", "var", "lib", "rpm", "Packages")
	const osRelease = "ID=alpine\nVERSION_ID=3.20.3\n"
	// host is a real directory on the host holding decoys at the absolute
	// paths the links name: reading any of them is a host read.
	host := t.TempDir()
	mustWrite(t, filepath.Join(host, "os-release"), []byte("ID=evil\nVERSION_ID=6.6.6\n"))
	mustWrite(t, filepath.Join(host, "apk/installed"), []byte("P:evil\nV:6.6.6\nA:x86_64\n\n"))
	type entry struct{ name, body, link string }
	file := func(name, body string) entry { return entry{name: name, body: body} }
	sym := func(name, target string) entry { return entry{name: name, link: target} }
	tests := []struct {
		name     string
		entries  []entry
		wantType string
		wantPath string
		wantOS   string
	}{
		{"os-release -> absolute path, inside the root", []entry{file(host[1:]+"/os-release", osRelease), sym("etc/os-release", host+"/os-release")}, "", "", "alpine"},
		{"os-release renamed through a chain", []entry{file("rel/v1", osRelease), sym("etc/os-release", "/x/v1"), sym("x", "y/../rel")}, "", "", "alpine"},
		{"etc is a directory link", []entry{file("sysroot/etc/os-release", osRelease), sym("etc", "sysroot/etc")}, "", "", "alpine"},
		{"apk database directory -> absolute path", []entry{file(host[1:]+"/apk/installed", apkDB), sym("lib/apk/db", host+"/apk"), file("etc/os-release", osRelease)}, inventory.TypeApk, "lib/apk/db/installed", "alpine"},
		{"usr-merged apk database", []entry{file("usr/lib/apk/db/installed", apkDB), sym("lib", "usr/lib"), file("etc/os-release", osRelease)}, inventory.TypeApk, "lib/apk/db/installed", "alpine"},
		{"dpkg status behind an escaping link", []entry{file("opt/dpkg/status", dpkgDB), sym("var/lib/dpkg", "../../../../../../../../opt/dpkg")}, inventory.TypeDeb, "var/lib/dpkg/status", ""},
		{"rpm database elsewhere", []entry{file("srv/db/Packages", rpmDB), sym("var/lib/rpm", "/srv/db")}, inventory.TypeRPM, "var/lib/rpm/Packages", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, e := range tc.entries {
				p := filepath.Join(root, e.name)
				if e.link == "" {
					mustWrite(t, p, []byte(e.body))
					continue
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(e.link, p); err != nil {
					t.Fatal(err)
				}
			}
			inv, err := Read(t.Context(), "dir:"+root, catalog.Packages(), Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if inv.Artifact.OS.Family != tc.wantOS {
				t.Errorf("OS %q, want %q", inv.Artifact.OS.Family, tc.wantOS)
			}
			for _, p := range inv.Packages {
				if p.Name == "evil" {
					t.Errorf("read the host's %s", p.Path)
				}
			}
			if tc.wantType != "" && !slices.ContainsFunc(inv.Packages, func(p inventory.Package) bool {
				return p.Type == tc.wantType && p.Path == tc.wantPath
			}) {
				t.Errorf("no %s package at %s: %d packages, warnings %q", tc.wantType, tc.wantPath, len(inv.Packages), inv.Warnings)
			}
		})
	}
}

// Hostile links on fixed paths of a dir: source — to /dev/zero, to a FIFO,
// loops, escapes — end the scan promptly with at most a warning.
func TestDirHostileLinks(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "etc/hostname"), []byte("x\n"))
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"etc/os-release":       "/fifo",                // a FIFO inside the root: never opened
		"usr/lib/os-release":   "/dev/zero",            // ROOT/dev/zero does not exist
		"lib/apk/db":           "../../../../dev",      // clamped: ROOT/dev
		"var/lib/dpkg/status":  "/var/lib/dpkg/loop",   // a loop
		"var/lib/dpkg/loop":    "status",               //
		"var/lib/rpm":          "/proc/self",           // ROOT/proc/self does not exist
		"dev/installed":        "/fifo",                // the apk database through the dev link, a FIFO
		"usr/lib/sysimage/rpm": "../../../../../../..", // the root itself
	}
	for name, target := range links {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var inv *inventory.Inventory
	var err error
	go func() {
		defer close(done)
		inv, err = Read(t.Context(), "dir:"+root, catalog.Packages(), Options{TempDir: t.TempDir()})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the scan hangs")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != 0 || inv.Artifact.OS.Family != "" {
		t.Errorf("packages %v, OS %+v from nothing", inv.Packages, inv.Artifact.OS)
	}
	if !strings.Contains(strings.Join(inv.Warnings, "\n"), "var/lib/dpkg/status: too many levels of symbolic links") {
		t.Errorf("no warning about the loop: %q", inv.Warnings)
	}
}
