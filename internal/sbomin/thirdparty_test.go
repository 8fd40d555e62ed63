package sbomin

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// want is the part of a package these tests check; an empty field is
// checked to be empty.
type want struct {
	name, version, typ, eco, src, path, layer string
	layerIndex                                int
}

func summarize(p inventory.Package) want {
	w := want{name: p.Name, version: p.Version, typ: p.Type, eco: p.Ecosystem, path: p.Path, layerIndex: -2}
	if p.Source != nil {
		w.src = p.Source.Name + "@" + p.Source.Version
	}
	if p.Layer != nil {
		w.layer, w.layerIndex = p.Layer.DiffID, p.Layer.Index
	}
	return w
}

const (
	alpineBase = "sha256:1bfeebd65323b8ddf5bd6a51cc7097b72788bc982e9ab3280d53d3c613adffa7"
	alpineApp  = "sha256:5216338b40a7b96416b8b9858974bbe4acc3096ee60acbc4dfb1ee02aecceb10"
	syftLayer  = "sha256:8553b91047dad45bedc292812586f1621e0a464a09a7a7c2ce6ac5f8ba2535d7"
	trivyDeb   = "sha256:5d4427064ecc46e3c2add169e9b5eafc7ed2be7861081ec925938ab628ac0e25"
)

func TestThirdParty(t *testing.T) {
	tests := []struct {
		file     string
		artifact string
		os       inventory.OS
		layers   int
		packages []want
		warnings []string
	}{
		{
			file: "trivy-alpine.cdx.json", artifact: "registry.example.com/team/app:1.4.2",
			os: inventory.OS{Family: "alpine", Version: "3.10.4"}, layers: 2,
			packages: []want{
				{"libcrypto1.1", "1.1.1d-r2", "apk", "Alpine:v3.10", "openssl@1.1.1d-r2", "", alpineBase, 0},
				{"musl", "1.1.22-r3", "apk", "Alpine:v3.10", "musl@1.1.22-r3", "", alpineBase, 0},
				{"golang.org/x/net", "v0.0.0-20190620200207-3b0461eec859", "golang", "Go", "", "", alpineApp, 1},
				{"org.apache.logging.log4j:log4j-core", "2.14.1", "maven", "Maven", "", "app/lib/log4j-core-2.14.1.jar", alpineApp, 1},
			},
		},
		{
			file: "syft-debian.cdx.json", artifact: "debian",
			os: inventory.OS{Family: "debian", Version: "11", Name: "Debian GNU/Linux 11 (bullseye)"},
			packages: []want{
				{"libc6", "2.31-13+deb11u5", "deb", "Debian:11", "glibc@2.31-13+deb11u5", "var/lib/dpkg/status", syftLayer, -1},
				{"libgcc-s1", "10.2.1-6", "deb", "Debian:11", "gcc-10@10.2.1-6", "var/lib/dpkg/status", syftLayer, -1},
				{"bash", "5.1-2+deb11u1", "deb", "Debian:11", "bash@5.1-2+deb11u1", "var/lib/dpkg/status", "", -2},
				{"@babel/parser", "7.20.15", "npm", "npm", "", "app/node_modules/@babel/parser/package.json", "", -2},
				{"PyYAML", "5.4.1", "pypi", "PyPI", "", "usr/lib/python3/dist-packages/PyYAML-5.4.1.egg-info", "", -2},
				{"stdlib", "go1.19.5", "golang", "Go", "", "usr/local/bin/tool", "", -2},
				{"actions/checkout", "v4", "github", "", "", "", "", -2},
				{"vendored-thing", "1.0", "", "", "", "", "", -2},
			},
			warnings: []string{"1 package(s) have no purl", "1 package(s) have a purl type"},
		},
		{
			file: "syft-rpm.spdx.json", artifact: "registry.access.redhat.com/ubi8/ubi-minimal",
			os: inventory.OS{Family: "rhel", Version: "8.7"},
			packages: []want{
				{"openssl-libs", "1:1.1.1k-7.el8_6", "rpm", "Red Hat:8", "openssl@1:1.1.1k-7.el8_6", "", "", -2},
				{"bash", "4.4.20-4.el8_6", "rpm", "Red Hat:8", "bash@4.4.20-4.el8_6", "", "", -2},
			},
		},
		{
			file: "trivy-debian.spdx.json", artifact: "debian:12",
			os: inventory.OS{Family: "debian", Version: "12.5"}, layers: 1,
			packages: []want{
				{"libssl3", "3.0.11-1~deb12u2", "deb", "Debian:12", "openssl@3.0.11-1~deb12u2", "", trivyDeb, 0},
				{"github.com/sirupsen/logrus", "v1.9.0", "golang", "Go", "", "", "", -2},
			},
		},
		{
			file: "minimal.cdx.xml", artifact: "alpine:3.18",
			os: inventory.OS{Family: "alpine", Version: "3.18.4"},
			packages: []want{
				{"zlib", "1.2.13-r1", "apk", "Alpine:v3.18", "zlib@1.2.13-r1", "lib/apk/db/installed", "", -2},
				{"serde", "1.0.188", "cargo", "crates.io", "", "", "", -2},
			},
		},
		{
			file: "minimal.spdx", artifact: "ubuntu-app",
			os: inventory.OS{Family: "ubuntu", Version: "22.04"},
			packages: []want{
				{"libssl3", "3.0.2-0ubuntu1.15", "deb", "Ubuntu:22.04", "openssl@3.0.2-0ubuntu1.15", "", "", -2},
				{"requests", "2.31.0", "pypi", "PyPI", "", "", "", -2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			inv, err := ReadFile(context.Background(), filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if inv.SchemaVersion != inventory.SchemaVersion {
				t.Errorf("schema version %q", inv.SchemaVersion)
			}
			if inv.Artifact.Name != tt.artifact {
				t.Errorf("artifact = %q, want %q", inv.Artifact.Name, tt.artifact)
			}
			if inv.Artifact.OS != tt.os {
				t.Errorf("OS = %+v, want %+v", inv.Artifact.OS, tt.os)
			}
			if len(inv.Artifact.Layers) != tt.layers {
				t.Errorf("layers = %+v, want %d", inv.Artifact.Layers, tt.layers)
			}
			var got []want
			for _, p := range inv.Packages {
				got = append(got, summarize(p))
				if p.PURL == "" && p.Type != "" {
					t.Errorf("%s: purl lost", p.Name)
				}
			}
			if !slices.Equal(got, tt.packages) {
				t.Errorf("packages:\n got %+v\nwant %+v", got, tt.packages)
			}
			if len(inv.Warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d", inv.Warnings, len(tt.warnings))
			}
			for i, w := range tt.warnings {
				if !strings.HasPrefix(inv.Warnings[i], w) {
					t.Errorf("warning %q, want prefix %q", inv.Warnings[i], w)
				}
			}
		})
	}
}
