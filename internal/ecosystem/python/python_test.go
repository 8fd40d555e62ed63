package python

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/ecosystem/ecosystemtest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// run offers path to every analyzer and returns what the one claiming it
// found, as "name@version" entries ("+dev" appended for dev packages).
func run(t *testing.T, path string, content []byte) ([]string, []inventory.Package, error) {
	t.Helper()
	pkgs, err := ecosystemtest.Analyze(t, Analyzers(), path, content)
	return ecosystemtest.IDs(pkgs, ecosystemtest.Flag("python.dev", "+dev")), pkgs, err
}

func TestCorpus(t *testing.T) {
	tests := []struct {
		file     string
		want     []string
		licenses []string // of the first package, when checked
	}{
		{"trivy-networkx-3.0.dist-info/METADATA", []string{"networkx@3.0"}, nil},
		{"trivy-zipp-3.12.1.dist-info/METADATA", []string{"zipp@3.12.1"}, []string{"MIT"}},
		{"trivy-asyncssh-2.14.2.dist-info/METADATA", []string{"asyncssh@2.14.2"}, []string{"Eclipse Public License v2.0"}},
		{"trivy-setuptools-51.3.3-py3.8.egg-info/PKG-INFO", []string{"setuptools@51.3.3"}, []string{"MIT"}},
		{"kitchen-1.2.6-py2.7.egg", []string{"kitchen@1.2.6"}, []string{"LGPLv2+"}},
		{"monotonic-1.6-py2.py3-none-any.whl", []string{"monotonic@1.6"}, []string{"Apache"}},
		{"syft-site-packages/with-license-file-declared.dist-info/METADATA", []string{"Pygments@2.6.1"}, []string{"BSD License"}},
		{"syft-poetry/poetry.lock", []string{"certifi@2024.2.2", "charset-normalizer@3.3.2", "idna@3.7", "requests@2.32.2", "urllib3@2.2.1"}, nil},
		{"trivy-pipenv/Pipfile.lock", []string{
			"awscli@1.16.147", "botocore@1.12.137", "certifi@2019.3.9", "chardet@3.0.4", "colorama@0.3.9",
			"django@2.2", "djangorestframework@3.9.3", "docutils@0.14", "framework@0.1.0", "idna@2.8",
			"jinja2@2.10.1", "jmespath@0.9.4", "markupsafe@1.1.1", "pyasn1@0.4.5", "python-dateutil@2.8.0",
			"pytz@2019.1", "pyyaml@3.13", "requests@2.21.0", "rsa@3.4.2", "s3transfer@0.2.0",
			"simplejson@3.16.0", "six@1.12.0", "sqlparse@0.3.0", "urllib3@1.24.2",
		}, nil},
		{"trivy-requirements/requirements.txt", []string{"Django@2.3.4", "SomeProject@5.4"}, nil},
	}
	// Files of an installed distribution other than its metadata, and a
	// project file: deliberately not claimed.
	unclaimed := map[string]bool{
		"syft-site-packages/with-license-file-declared.dist-info/RECORD":          true,
		"syft-site-packages/with-license-file-declared.dist-info/top_level.txt":   true,
		"syft-site-packages/with-license-file-declared.dist-info/direct_url.json": true,
		"syft-site-packages/with-license-file-declared.dist-info/LICENSE.txt":     true,
		"syft-poetry/pyproject.toml":                                              true,
	}
	root := corpus.Path(t, "pkgdb", "python")
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			content, err := os.ReadFile(filepath.Join(root, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, pkgs, err := run(t, tt.file, content)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if tt.licenses != nil && !slices.Equal(pkgs[0].Licenses, tt.licenses) {
				t.Errorf("licenses %q, want %q", pkgs[0].Licenses, tt.licenses)
			}
			for _, p := range pkgs {
				if p.Path != tt.file || p.Type != inventory.TypePyPI || p.Ecosystem != "PyPI" || !strings.HasPrefix(p.PURL, "pkg:pypi/") {
					t.Errorf("bad package fields: %+v", p)
				}
			}
		})
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case seen[rel]:
		case unclaimed[rel]:
			for _, a := range Analyzers() {
				if a.Claims(rel, 0o644, 100) {
					t.Errorf("%s claims %s", a.Name(), rel)
				}
			}
		default:
			t.Errorf("fixture %s is not covered", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
