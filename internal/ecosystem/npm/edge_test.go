package npm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/ecosystem/ecosystemtest"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestClaims(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"app/node_modules/express/package.json", true},
		{"node_modules/@babel/parser/package.json", true},
		{"usr/lib/node_modules/npm/node_modules/debug/package.json", true},
		{"app/node_modules/express/lib/package.json", false},
		{"app/node_modules/@babel/package.json", false},
		{"app/node_modules/package.json", false},
		{"app/package.json", false},
		{"app/my_node_modules/x/package.json", false},
		{"app/package-lock.json", true},
		{"app/npm-shrinkwrap.json", true},
		{"app/yarn.lock", true},
		{"pnpm-lock.yaml", true},
		{"app/yarn.lock.bak", false},
		{"app/package-lock.json.orig", false},
	}
	for _, tt := range tests {
		ecosystemtest.CheckClaim(t, Analyzers(), tt.path, 10, tt.want)
	}
}

func TestEdgeCases(t *testing.T) {
	tests := []struct {
		name, path, content string
		want                []string
	}{
		{"lock v3 link, workspace and alias", "package-lock.json", `{"lockfileVersion":3,"packages":{
			"":{"name":"root","version":"1.0.0"},
			"packages/a":{"name":"a","version":"0.1.0"},
			"node_modules/a":{"resolved":"packages/a","link":true},
			"node_modules/sw":{"name":"string-width","version":"4.2.3"},
			"node_modules/alias":{"version":"npm:@scope/real@2.0.0"},
			"node_modules/nover":{}}}`,
			[]string{"@scope/real@2.0.0", "string-width@4.2.3"}},
		{"dev only when every occurrence is dev", "package-lock.json", `{"lockfileVersion":1,"dependencies":{
			"a":{"version":"1.0.0","dev":true,"dependencies":{"b":{"version":"2.0.0","dev":true}}},
			"b":{"version":"2.0.0"}}}`,
			[]string{"a@1.0.0+dev", "b@2.0.0"}},
		{"pnpm v6 keys", "pnpm-lock.yaml", "lockfileVersion: '6.0'\npackages:\n" +
			"  /@types/node@18.6.4:\n    dev: true\n" +
			"  /eslint-plugin-n@15.2.4(eslint@8.21.0):\n    dev: false\n" +
			"  github.com/foo/bar/abc123:\n    name: bar\n    version: 1.2.3\n",
			[]string{"@types/node@18.6.4+dev", "bar@1.2.3", "eslint-plugin-n@15.2.4"}},
		{"pnpm v5 peer suffix", "pnpm-lock.yaml", "lockfileVersion: 5.4\npackages:\n" +
			"  /@size-limit/preset-small-lib/8.0.0_size-limit@8.0.0:\n    dev: true\n",
			[]string{"@size-limit/preset-small-lib@8.0.0+dev"}},
		{"pnpm v9 keys", "pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n" +
			"  '@babel/core@7.24.0':\n    resolution: {integrity: sha512-x}\n  ms@2.1.3:\n    resolution: {integrity: sha512-y}\n",
			[]string{"@babel/core@7.24.0", "ms@2.1.3"}},
		{"yarn berry", "yarn.lock", "__metadata:\n  version: 6\n\n" +
			"\"@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0\":\n  version: 7.24.0\n  resolution: \"@babel/core@npm:7.24.0\"\n\n" +
			"\"app@workspace:.\":\n  version: 0.0.0-use.local\n",
			[]string{"@babel/core@7.24.0"}},
		{"yarn alias", "yarn.lock", "# yarn lockfile v1\n\n\"string-width-cjs@npm:string-width@^4.2.0\":\n  version \"4.2.3\"\n  dependencies:\n    version \"9\"\n",
			[]string{"string-width@4.2.3"}},
		{"private root", "node_modules/x/package.json", `{"name":"x","version":"1.0.0","private":true}`, nil},
		{"no version", "node_modules/x/package.json", `{"name":"x"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := run(t, tt.path, []byte(tt.content))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLicensesAndPURL(t *testing.T) {
	tests := []struct {
		content  string
		licenses []string
		purl     string
	}{
		{`{"name":"@Babel/Parser","version":"7.0.0","license":"MIT"}`, []string{"MIT"}, "pkg:npm/%40babel/parser@7.0.0"},
		{`{"name":"a","version":"1.0.0","license":{"type":"ISC","url":"x"}}`, []string{"ISC"}, "pkg:npm/a@1.0.0"},
		{`{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},"Apache-2.0"]}`, []string{"MIT", "Apache-2.0"}, "pkg:npm/a@1.0.0"},
		{`{"name":"a","version":"1.0.0","license":42}`, nil, "pkg:npm/a@1.0.0"},
	}
	for _, tt := range tests {
		_, pkgs, err := run(t, "node_modules/a/package.json", []byte(tt.content))
		if err != nil || len(pkgs) != 1 {
			t.Fatalf("%s: %v %v", tt.content, pkgs, err)
		}
		if !slices.Equal(pkgs[0].Licenses, tt.licenses) || pkgs[0].PURL != tt.purl {
			t.Errorf("%s: got licenses %q purl %s", tt.content, pkgs[0].Licenses, pkgs[0].PURL)
		}
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct{ name, path, content string }{
		{"package.json not json", "node_modules/a/package.json", `{"name": "a", `},
		{"lock truncated", "package-lock.json", `{"lockfileVersion": 2, "packages": {"node_modules/a": {"vers`},
		{"lock wrong shape", "package-lock.json", `{"packages": []}`},
		{"lock not a lock", "package-lock.json", `{"name": "x"}`},
		{"yarn garbage header", "yarn.lock", "this is not a lockfile\n"},
		{"yarn orphan field", "yarn.lock", "  version \"1.0.0\"\n"},
		{"yarn huge line", "yarn.lock", "a@^1:\n  version \"" + strings.Repeat("9", 2<<20) + "\"\n"},
		{"pnpm bad yaml", "pnpm-lock.yaml", "lockfileVersion: 5.4\npackages: [\n"},
		{"pnpm not a lock", "pnpm-lock.yaml", "foo: bar\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := run(t, tt.path, []byte(tt.content)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	a := Analyzers()[0]
	f := inventory.NewFile("node_modules/a/package.json", 0o644, manifestLimit+1, strings.NewReader(""), "", 0)
	err := a.Analyze(t.Context(), f, &inventory.LayerResult{})
	if !errors.Is(err, inventory.ErrFileTooLarge) {
		t.Errorf("got %v, want ErrFileTooLarge", err)
	}
}
