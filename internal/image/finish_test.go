package image

import (
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestFinishPURLs(t *testing.T) {
	tests := []struct {
		name    string
		release map[string][]byte
		pkg     inventory.Package
		want    string
		wantEco string
	}{
		{
			name:    "ubuntu dpkg package takes the distro's namespace",
			release: map[string][]byte{"etc/os-release": []byte("ID=ubuntu\nVERSION_ID=\"22.04\"\n")},
			pkg: inventory.Package{Name: "libssl3", Version: "3.0.2-0ubuntu1.15", Type: inventory.TypeDeb, Arch: "amd64",
				PURL:   "pkg:deb/debian/libssl3@3.0.2-0ubuntu1.15?arch=amd64",
				Source: &inventory.SourcePackage{Name: "openssl", Version: "3.0.2-0ubuntu1.15"}},
			want:    "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.15?arch=amd64&distro=ubuntu-22.04&upstream=openssl",
			wantEco: "Ubuntu:22.04",
		},
		{
			name:    "rocky rpm package",
			release: map[string][]byte{"etc/os-release": []byte("ID=\"rocky\"\nVERSION_ID=\"9.3\"\n")},
			pkg: inventory.Package{Name: "bash", Version: "5.1.8-6.el9", Type: inventory.TypeRPM, Arch: "x86_64",
				PURL: "pkg:rpm/redhat/bash@5.1.8-6.el9?arch=x86_64"},
			want:    "pkg:rpm/rocky/bash@5.1.8-6.el9?arch=x86_64&distro=rocky-9.3",
			wantEco: "Rocky Linux:9",
		},
		{
			name:    "alpine package with source version differing",
			release: map[string][]byte{"etc/alpine-release": []byte("3.10.4\n")},
			pkg: inventory.Package{Name: "libcrypto1.1", Version: "1.1.1d-r0", Type: inventory.TypeApk,
				Source: &inventory.SourcePackage{Name: "openssl", Version: "1.1.1d-r2"}},
			want:    "pkg:apk/alpine/libcrypto1.1@1.1.1d-r0?distro=3.10.4&upstream=openssl%401.1.1d-r2",
			wantEco: "Alpine:v3.10",
		},
		{
			name: "unknown OS keeps the cataloger's purl",
			pkg: inventory.Package{Name: "bash", Version: "5.2-1", Type: inventory.TypeDeb, Arch: "amd64",
				PURL: "pkg:deb/debian/bash@5.2-1?arch=amd64"},
			want: "pkg:deb/debian/bash@5.2-1?arch=amd64",
		},
		{
			name:    "language packages are left alone",
			release: map[string][]byte{"etc/os-release": []byte("ID=debian\nVERSION_ID=12\n")},
			pkg:     inventory.Package{Name: "requests", Version: "2.31.0", Type: inventory.TypePyPI, PURL: "pkg:pypi/requests@2.31.0", Ecosystem: "PyPI"},
			want:    "pkg:pypi/requests@2.31.0",
			wantEco: "PyPI",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{Contents: tt.release, Packages: []inventory.Package{tt.pkg}}
			finish(inv)
			got := inv.Packages[0]
			if got.PURL != tt.want || got.Ecosystem != tt.wantEco {
				t.Errorf("purl %s, ecosystem %q; want %s, %q", got.PURL, got.Ecosystem, tt.want, tt.wantEco)
			}
		})
	}
}
