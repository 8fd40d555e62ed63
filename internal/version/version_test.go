package version

import (
	"errors"
	"testing"
)

func TestForNames(t *testing.T) {
	tests := []struct {
		eco  string
		want Comparator
	}{
		{"Go", goCmp}, {"go", goCmp}, {"PyPI", pep440Cmp}, {"pypi", pep440Cmp},
		{"npm", npmCmp}, {"Maven", mavenCmp}, {"crates.io", semverCmp}, {"cargo", semverCmp},
		{"NuGet", nugetCmp}, {"RubyGems", rubyCmp}, {"Packagist", packagistCmp},
		{"Hex", semverCmp}, {"Pub", pubCmp}, {"semver", semverCmp},
		{"Alpine:v3.10", apkCmp}, {"apk", apkCmp}, {"Wolfi", apkCmp}, {"Chainguard", apkCmp},
		{"Debian:12", dpkgCmp}, {"Ubuntu:22.04:LTS", dpkgCmp}, {"deb", dpkgCmp},
		{"AlmaLinux:9", rpmCmp}, {"Rocky Linux:8", rpmCmp}, {"Red Hat:enterprise_linux:9", rpmCmp},
		{"Amazon Linux:2023", rpmCmp}, {"SUSE:Linux Enterprise Server 15", rpmCmp},
		{"openSUSE:Leap 15.5", rpmCmp}, {"rpm", rpmCmp},
	}
	for _, tt := range tests {
		got, err := For(tt.eco)
		if err != nil || got != tt.want {
			t.Errorf("For(%q) = %T, %v; want %T", tt.eco, got, err, tt.want)
		}
	}
	for _, eco := range []string{"", "Haiku", "GIT"} {
		if _, err := For(eco); !errors.Is(err, ErrUnknownEcosystem) {
			t.Errorf("For(%q): err = %v, want ErrUnknownEcosystem", eco, err)
		}
	}
}

// TestInvalidVersions checks that each comparator refuses what its
// ecosystem cannot order, instead of guessing.
func TestInvalidVersions(t *testing.T) {
	tests := []struct{ eco, v string }{
		{"apk", "_1"}, {"apk", "1.0-foo"}, {"apk", "abc"}, {"apk", ""},
		{"deb", "a1.0"}, {"deb", "x:1.0"}, {"deb", "1.0-"}, {"deb", "1 0"}, {"deb", ""},
		{"rpm", ":1.0"}, {"rpm", "a:1.0"}, {"rpm", "1.0-"}, {"rpm", "1 0"},
		{"go", "1.2.3.4"}, {"go", "latest"}, {"go", "go1"},
		{"pypi", "1.0-foo-bar"}, {"pypi", "french toast"},
		{"npm", "1.2"}, {"npm", "x.y.z"}, {"cargo", "01.2.3"}, {"cargo", "1.2.3-01"},
		{"rubygems", "1..2"}, {"rubygems", "a.b"}, {"nuget", "1.2.3.4.5"},
		{"maven", ""}, {"pub", "1.0"}, {"packagist", "dev-master"},
	}
	for _, tt := range tests {
		c, err := For(tt.eco)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Compare(tt.v, "1.0.0"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Compare(%q, 1.0.0) err = %v, want ErrInvalid", tt.eco, tt.v, err)
		}
		if _, err := c.Compare("1.0.0", tt.v); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Compare(1.0.0, %q) err = %v, want ErrInvalid", tt.eco, tt.v, err)
		}
	}
}

// TestEcosystemCases covers cases the upstream vectors do not: Go
// toolchain versions, distro backports, NuGet and Packagist basics.
func TestEcosystemCases(t *testing.T) {
	tests := []struct {
		eco, a, b string
		want      int
	}{
		{"Go", "go1.22.5", "1.22.5", 0},
		{"Go", "go1.21rc2", "1.21.0", -1},
		{"Go", "go1.21", "1.21.0", 0},
		{"Go", "v0.0.0-20230101000000-abcdefabcdef", "0.1.0", -1},
		{"Go", "v2.0.0+incompatible", "2.0.0", 0},
		{"apk", "1.1.1d-r2", "1.1.1d-r0", 1},
		{"apk", "1.1.1g-r0", "1.1.1d-r3", 1},
		{"deb", "1.1.1n-0+deb11u4", "1.1.1n-0+deb11u5", -1},
		{"deb", "2:1.0", "1:9.9", 1},
		{"rpm", "1:1.1.1k-7.el8_6", "1:1.1.1k-12.el8_9", -1},
		{"rpm", "1.1.1k-7.el8", "1:1.0-1", -1},
		{"rpm", "0:2.0-1", "2.0-1", 0},
		{"nuget", "1.0.0", "1.0.0.1", -1},
		{"nuget", "1.0.0-beta", "1.0.0", -1},
		{"packagist", "5.4.3", "5.4.10", -1},
		{"pub", "1.0.0-dev", "1.0.0", -1},
		{"cargo", "0.9.0", "0.10.0", -1},
		{"pypi", "2.31.0", "2.4.0", 1},
	}
	for _, tt := range tests {
		c, err := For(tt.eco)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Compare(tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("%s: Compare(%q, %q) = %d, %v; want %d", tt.eco, tt.a, tt.b, got, err, tt.want)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	pairs := []struct{ eco, a, b string }{
		{"apk", "1.1.1d-r2", "1.1.1g-r0"},
		{"deb", "1.1.1n-0+deb11u4", "1.1.1n-0+deb11u5"},
		{"rpm", "1:1.1.1k-7.el8_6", "1:1.1.1k-12.el8_9"},
		{"go", "v0.17.0", "0.23.0"},
		{"pypi", "2.31.0", "2.32.0rc1"},
		{"npm", "4.17.20", "4.17.21"},
		{"maven", "2.14.1", "2.17.0-rc1"},
	}
	for _, p := range pairs {
		c, _ := For(p.eco)
		b.Run(p.eco, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Compare(p.a, p.b); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "compares/s")
		})
	}
}

// FuzzCompare checks every comparator for panics and antisymmetry on
// arbitrary input.
func FuzzCompare(f *testing.F) {
	for _, s := range [][2]string{{"1.0", "1.0-r1"}, {"1:2.3~rc1-4", "2.3-1"}, {"1.0^git1~pre", "1.0"}, {"1.0.0-alpha.1", "v1.0.0"}, {"1-alpha2snapshot", "1.0.RC"}, {"1.0a1.post2.dev3+local", "1!0"}} {
		f.Add(s[0], s[1])
	}
	names := []string{"apk", "deb", "rpm", "go", "pypi", "maven", "npm", "cargo", "rubygems", "nuget", "packagist", "pub"}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, n := range names {
			c, _ := For(n)
			x, err1 := c.Compare(a, b)
			y, err2 := c.Compare(b, a)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s: errors differ by direction: %v / %v", n, err1, err2)
			}
			if err1 == nil && x != -y {
				t.Fatalf("%s: Compare(%q,%q)=%d but reverse %d", n, a, b, x, y)
			}
		}
	})
}
