package npm

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

// run offers path to every analyzer and returns what the claiming one
// found, as "name@version" entries ("+dev" appended for dev packages).
func run(t *testing.T, path string, content []byte) ([]string, []inventory.Package, error) {
	t.Helper()
	pkgs, err := ecosystemtest.Analyze(t, Analyzers(), path, content)
	return summarize(pkgs), pkgs, err
}

func summarize(pkgs []inventory.Package) []string {
	return ecosystemtest.IDs(pkgs, ecosystemtest.Flag("npm.dev", "+dev"))
}

func readCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(corpus.Path(t, "pkgdb", "npm", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// trivyTree is what trivy's v1, v2 and v3 lockfiles of the same project hold.
var trivyTree = []string{
	"@babel/helper-string-parser@7.19.4", "asap@2.0.6", "body-parser@1.18.3", "bytes@3.0.0",
	"content-type@1.0.5", "debug@2.5.2+dev", "debug@2.6.9", "depd@1.1.2", "ee-first@1.1.1",
	"encodeurl@1.0.2", "escape-html@1.0.3", "finalhandler@1.1.1", "http-errors@1.6.3",
	"iconv-lite@0.4.23", "inherits@2.0.3", "media-typer@0.3.0", "mime-db@1.52.0",
	"mime-types@2.1.35", "ms@0.7.2+dev", "ms@1.0.0", "ms@2.0.0", "on-finished@2.3.0",
	"parseurl@1.3.3", "promise@8.3.0", "qs@6.5.2", "raw-body@2.3.3", "safer-buffer@2.1.2",
	"setprototypeof@1.1.0", "statuses@1.4.0", "type-is@1.6.18", "unpipe@1.0.0",
}

func TestCorpus(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"trivy-lockfile-v1/package-lock.json", trivyTree},
		{"trivy-lockfile-v2/package-lock.json", trivyTree},
		{"trivy-lockfile-v3/package-lock.json", trivyTree},
		{"syft-lock/package-lock.json", []string{
			"@actions/core@1.6.0", "ansi-regex@3.0.0", "async@3.2.4+dev", "cowsay@1.4.0", "get-stdin@5.0.1",
			"is-fullwidth-code-point@2.0.0", "minimist@0.0.10", "optimist@0.6.1", "string-width@2.1.1",
			"strip-ansi@4.0.0", "strip-eof@1.0.0", "wordwrap@0.0.3",
		}},
		{"trivy-node_modules/package-lock.json", []string{
			"@babel/parser@7.23.6", "ansi-colors@3.2.3+dev", "array-flatten@1.1.1", "body-parser@1.18.3",
			"debug@2.6.9", "express@4.16.4", "ms@2.0.0", "ms@2.1.1",
		}},
		{"syft-yarn-v1/yarn.lock", []string{
			"@babel/code-frame@7.10.4", "@types/minimatch@3.0.3", "@types/qs@6.9.4", "ajv@6.12.3",
			"asn1.js@4.10.1", "atob@2.1.2", "aws-sdk@2.706.0", "c0n-fab_u.laTION@7.7.7", "jhipster-core@7.3.4",
		}},
		{"syft-pnpm/pnpm-lock.yaml", []string{"@bcoe/v8-coverage@0.2.3+dev"}},
		{"trivy-node_modules/node_modules/@babel/parser/package.json", []string{"@babel/parser@7.23.6"}},
		{"trivy-node_modules/node_modules/body-parser/node_modules/debug/package.json", []string{"debug@2.6.9"}},
		{"trivy-node_modules/node_modules/body-parser/node_modules/ms/package.json", []string{"ms@2.0.0"}},
		{"trivy-node_modules/node_modules/body-parser/package.json", []string{"body-parser@1.18.3"}},
		{"trivy-node_modules/node_modules/express/node_modules/debug/package.json", []string{"debug@2.6.9"}},
		{"trivy-node_modules/node_modules/express/node_modules/ms/package.json", []string{"ms@2.0.0"}},
		{"trivy-node_modules/node_modules/express/package.json", []string{"express@4.16.4"}},
		{"trivy-node_modules/node_modules/ms/package.json", []string{"ms@2.1.1"}},
		{"grype-global-node_modules/lib/node_modules/npm-apk-subpackage-with-false-positive/package.json", []string{
			"npm-apk-subpackage-with-false-positive@1.0.0",
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			got, pkgs, err := run(t, tt.file, readCorpus(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			for _, p := range pkgs {
				if p.Path != tt.file || p.Type != inventory.TypeNPM || p.Ecosystem != "npm" || !strings.HasPrefix(p.PURL, "pkg:npm/") {
					t.Errorf("bad package fields: %+v", p)
				}
			}
		})
	}
	// Every fixture in the folder is either in the table or deliberately
	// unclaimed (a project's own package.json is not an installed package).
	root := corpus.Path(t, "pkgdb", "npm")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if !seen[rel] && rel != "syft-package-json/package.json" {
			t.Errorf("fixture %s is not covered", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestProjectManifest(t *testing.T) {
	const file = "syft-package-json/package.json"
	for _, a := range Analyzers() {
		if a.Claims(file, 0o644, 100) {
			t.Errorf("%s claims a project manifest outside node_modules", a.Name())
		}
	}
	pkgs, err := parsePackageJSON(file, readCorpus(t, file))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].Name != "npm" || pkgs[0].Version != "6.14.6" || !slices.Equal(pkgs[0].Licenses, []string{"Artistic-2.0"}) {
		t.Errorf("got %+v", pkgs)
	}
}
