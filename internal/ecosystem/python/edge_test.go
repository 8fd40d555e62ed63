package python

import (
	"archive/zip"
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/ecosystem/ecosystemtest"
)

func TestClaims(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", true},
		{"six-1.16.0.dist-info/METADATA", true},
		{"usr/lib/python3.11/site-packages/foo.egg-info/PKG-INFO", true},
		{"usr/lib/python2.7/dist-packages/foo-1.0.egg-info", true},
		{"site-packages/foo-1.0-py3.8.egg/EGG-INFO/PKG-INFO", true},
		{"wheels/monotonic-1.6-py2.py3-none-any.whl", true},
		{"eggs/kitchen-1.2.6-py2.7.egg", true},
		{"app/requirements.txt", true},
		{"app/requirements-dev.txt", true},
		{"app/Pipfile.lock", true},
		{"app/poetry.lock", true},
		{"six-1.16.0.dist-info/RECORD", false},
		{"src/METADATA", false},
		{"src/PKG-INFO", false},
		{"app/Pipfile", false},
		{"app/dev-requirements.in", false},
		{"app/requirements.txt.bak", false},
	}
	for _, tt := range tests {
		ecosystemtest.CheckClaim(t, Analyzers(), tt.path, 1000, tt.want)
	}
	if (archiveAnalyzer{}).Claims("big.whl", 0o644, archiveLimit+1) {
		t.Error("archive over the limit claimed")
	}
}

func TestEdgeCases(t *testing.T) {
	tests := []struct {
		name, path, content string
		want                []string
		licenses            []string
		purl                string
	}{
		{"expression wins", "x.dist-info/METADATA", "Name: Foo_Bar\nVersion: 1.0\nLicense: MIT License text\nLicense-Expression: MIT OR Apache-2.0\n",
			[]string{"Foo_Bar@1.0"}, []string{"MIT OR Apache-2.0"}, "pkg:pypi/foo-bar@1.0"},
		{"license text ignored, classifiers used", "x.dist-info/METADATA", "Name: a\nVersion: 2\nLicense: Copyright (c) x\n  Permission is hereby granted\nClassifier: License :: OSI Approved :: MIT License\nClassifier: License :: OSI Approved :: BSD License\n\nLicense: body\n",
			[]string{"a@2"}, []string{"MIT", "BSD License"}, "pkg:pypi/a@2"},
		{"single-file egg-info", "usr/lib/python2.7/dist-packages/foo-1.0.egg-info", "Metadata-Version: 1.0\r\nName: foo\r\nVersion: 1.0\r\nLicense: UNKNOWN\r\n",
			[]string{"foo@1.0"}, nil, "pkg:pypi/foo@1.0"},
		{"requirements forms", "requirements.txt", strings.Join([]string{
			"# comment", "-r other.txt", "--index-url https://x", "-e git+https://g/x#egg=x",
			"Flask[async]==2.0.1 --hash=sha256:abc \\", "    --hash=sha256:def",
			"requests==2.31.0 ; python_version >= '3.8'  # pinned", "numpy==1.*", "scipy>=1.0,==1.2",
			"pkg @ https://x/pkg.whl", "exact===1.0+local", "urllib3 == 1.26.5",
		}, "\n"), []string{"Flask@2.0.1", "exact@1.0+local", "requests@2.31.0", "urllib3@1.26.5"}, nil, ""},
		{"pipfile develop", "Pipfile.lock", `{"_meta":{},"default":{"a":{"version":"==1.0"},"g":{"git":"x"}},"develop":{"a":{"version":"==1.0"},"pytest":{"version":"==7.0"}}}`,
			[]string{"a@1.0", "pytest@7.0+dev"}, nil, ""},
		{"poetry 1.x categories", "poetry.lock", "[[package]]\nname = \"pytest\"\nversion = \"7.0\"\ncategory = \"dev\"\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\ncategory = \"main\"\n",
			[]string{"pytest@7.0+dev", "six@1.16.0"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pkgs, err := run(t, tt.path, []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if tt.purl != "" && (pkgs[0].PURL != tt.purl || !slices.Equal(pkgs[0].Licenses, tt.licenses)) {
				t.Errorf("purl %s licenses %q, want %s %q", pkgs[0].PURL, pkgs[0].Licenses, tt.purl, tt.licenses)
			}
		})
	}
}

func zipOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestMalformed(t *testing.T) {
	tests := []struct{ name, path, content string }{
		{"metadata not headers", "x.dist-info/METADATA", "this is not metadata\n"},
		{"metadata no version", "x.dist-info/METADATA", "Name: a\n"},
		{"metadata huge header", "x.dist-info/METADATA", "Name: " + strings.Repeat("a", 2<<20) + "\n"},
		{"pipfile truncated", "Pipfile.lock", `{"default": {"a": {"vers`},
		{"pipfile wrong shape", "Pipfile.lock", `{"default": []}`},
		{"pipfile not a lock", "Pipfile.lock", `{}`},
		{"poetry bad toml", "poetry.lock", "[[package]\nname = \n"},
		{"poetry not a lock", "poetry.lock", "[tool]\nx = 1\n"},
		{"requirements huge line", "requirements.txt", "a==" + strings.Repeat("1", 2<<20) + "\n"},
		{"archive not zip", "a.whl", "PK\x03\x04 not really"},
		{"archive truncated", "a.whl", zipOf(t, map[string]string{"a-1.dist-info/METADATA": "Name: a\nVersion: 1\n"})[:40]},
		{"archive without metadata", "a.whl", zipOf(t, map[string]string{"a.py": "print()"})},
		{"archive nested metadata only", "a.whl", zipOf(t, map[string]string{"vendor/b-1.dist-info/METADATA": "Name: b\nVersion: 1\n"})},
		{"archive bad metadata", "a.egg", zipOf(t, map[string]string{"EGG-INFO/PKG-INFO": "garbage"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := run(t, tt.path, []byte(tt.content)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestArchiveMetadataTooLarge(t *testing.T) {
	// A small archive whose metadata inflates past the limit is refused
	// without reading it all.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("a-1.dist-info/METADATA")
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range metadataLimit>>20 + 1 {
		w.Write(chunk)
	}
	zw.Close()
	_, _, err := run(t, "a.whl", buf.Bytes())
	if err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("got %v, want a size-limit error", err)
	}
}
