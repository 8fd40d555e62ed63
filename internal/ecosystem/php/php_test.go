package php

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
	return ecosystemtest.IDs(pkgs, ecosystemtest.Flag("composer.dev", "+dev")), pkgs, err
}

func TestCorpus(t *testing.T) {
	installed := []string{"asm89/stack-cors@1.3.0", "behat/mink@v1.8.1"}
	tests := []struct {
		file string
		want []string
	}{
		{"syft-installed-v1/vendor/composer/installed.json", installed},
		// Composer 2 lists behat/mink in dev-package-names.
		{"syft-installed-v2/vendor/composer/installed.json", []string{"asm89/stack-cors@1.3.0", "behat/mink@v1.8.1+dev"}},
		{"syft/composer.lock", []string{
			"adoy/fastcgi-client@1.0.2", "alcaeus/mongo-php-adapter@1.1.11",
			"behat/gherkin@v4.6.2+dev", "codeception/codeception@4.1.6+dev",
		}},
		{"trivy-happy/composer.lock", []string{
			"guzzlehttp/guzzle@6.5.8", "guzzlehttp/promises@1.5.2", "guzzlehttp/psr7@1.9.0",
			"pear/log@1.13.3+dev", "pear/pear_exception@v1.0.2+dev", "psr/http-message@1.0.1",
			"ralouphie/getallheaders@3.0.3", "symfony/polyfill-intl-idn@v1.27.0",
			"symfony/polyfill-intl-normalizer@v1.27.0", "symfony/polyfill-php72@v1.27.0",
		}},
	}
	root := corpus.Path(t, "pkgdb", "composer")
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
			for _, p := range pkgs {
				if p.Path != tt.file || p.Type != inventory.TypeComposer || p.Ecosystem != "Packagist" ||
					p.PURL != "pkg:composer/"+p.Name+"@"+p.Version || len(p.Licenses) == 0 {
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
		if rel = filepath.ToSlash(rel); !seen[rel] {
			t.Errorf("fixture %s is not covered", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFields(t *testing.T) {
	content := `{"packages":[{"name":"Symfony/Console","version":"v5.4.0","version_normalized":"5.4.0.0","license":"MIT"}],"dev":false}`
	_, pkgs, err := run(t, "app/vendor/composer/installed.json", []byte(content))
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("%v %v", pkgs, err)
	}
	p := pkgs[0]
	if p.Name != "Symfony/Console" || p.Version != "v5.4.0" || p.PURL != "pkg:composer/symfony/console@v5.4.0" ||
		!slices.Equal(p.Licenses, []string{"MIT"}) || p.Metadata["composer.version_normalized"] != "5.4.0.0" || p.Metadata["composer.dev"] != "" {
		t.Errorf("got %+v", p)
	}
}

func TestClaims(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"var/www/vendor/composer/installed.json", true},
		{"var/www/lib/composer/installed.json", true},
		{"var/www/composer.lock", true},
		{"composer.lock", true},
		{"var/www/composer.json", false},
		{"var/www/vendor/composer/installed.php", false},
		{"var/www/vendor/composer/xinstalled.json", false},
		{"var/www/mycomposer.lock", false},
	}
	for _, tt := range tests {
		ecosystemtest.CheckClaim(t, Analyzers(), tt.path, 100, tt.want)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct{ name, path, content string }{
		{"installed truncated", "vendor/composer/installed.json", `{"packages": [{"name": "a/b", "vers`},
		{"installed v1 truncated", "vendor/composer/installed.json", `[{"name": "a/b"`},
		{"installed wrong shape", "vendor/composer/installed.json", `{"packages": {"a": 1}}`},
		{"installed not composer", "vendor/composer/installed.json", `{"name": "x"}`},
		{"installed scalar", "vendor/composer/installed.json", `42`},
		{"lock not json", "composer.lock", "<?php\n"},
		{"lock not a lock", "composer.lock", `{"name": "x"}`},
		{"lock huge string", "composer.lock", `{"packages": [{"name": "` + strings.Repeat("a", 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := run(t, tt.path, []byte(tt.content)); err == nil {
				t.Error("no error")
			}
		})
	}
}
