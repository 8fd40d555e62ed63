package ruby

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
// found, as "name@version" entries ("-platform" appended when recorded).
func run(t *testing.T, path string, content []byte) ([]string, []inventory.Package, error) {
	t.Helper()
	pkgs, err := ecosystemtest.Analyze(t, Analyzers(), path, content)
	return ecosystemtest.IDs(pkgs, func(p inventory.Package) string {
		if pl := p.Metadata["gem.platform"]; pl != "" {
			return "-" + pl
		}
		return ""
	}), pkgs, err
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func TestCorpus(t *testing.T) {
	tests := []struct {
		file string
		// as is the path the file is offered under, when its corpus path
		// is not where an image would hold it.
		as       string
		want     []string
		licenses []string
	}{
		{file: "syft-specifications/specifications/bundler.gemspec", want: []string{"bundler@2.1.4"}, licenses: []string{"MIT"}},
		{file: "syft-specifications/specifications/formatador.gemspec", want: []string{"formatador@1.1.0"}, licenses: []string{"MIT"}},
		{file: "trivy-gemspec/normal00.gemspec", as: "usr/lib/ruby/gems/3.0.0/specifications/rake-13.0.3.gemspec", want: []string{"rake@13.0.3"}, licenses: []string{"MIT"}},
		{file: "trivy-gemspec/multiple_licenses.gemspec", as: "usr/local/bundle/specifications/test-unit-3.3.7.gemspec", want: []string{"test-unit@3.3.7"}, licenses: []string{"Ruby", "BSDL", "PSFL"}},
		{file: "trivy-bundler2/Gemfile.lock", want: []string{
			"coderay@1.1.3", "concurrent-ruby@1.1.10", "dotenv@2.7.6", "faker@2.21.0", "i18n@1.10.0",
			"json@2.6.2", "method_source@1.0.0", "pry@0.14.1",
		}},
		{file: "syft-bundler/Gemfile.lock", want: sorted(
			"google-cloud-errors@1.3.0", "turbolinks@3.0.0", "actionmailer@4.1.1", "actionpack@4.1.1", "actionview@4.1.1",
			"activemodel@4.1.1", "activerecord@4.1.1", "activesupport@4.1.1", "arel@5.0.1.20140414130214",
			"bootstrap-sass@3.1.1.1", "builder@3.2.2", "coffee-rails@4.0.1", "coffee-script@2.2.0",
			"coffee-script-source@1.7.0", "erubis@2.7.0", "execjs@2.0.2", "hike@1.2.3", "i18n@0.6.9", "jbuilder@2.0.7",
			"jquery-rails@3.1.0", "json@1.8.1", "kgio@2.9.2", "libv8@3.16.14.3", "mail@2.5.4", "mime-types@1.25.1",
			"minitest@5.3.4", "multi_json@1.10.1", "mysql2@0.3.16", "polyglot@0.3.4", "rack@1.5.2", "rack-test@0.6.2",
			"rails@4.1.1", "railties@4.1.1", "raindrops@0.13.0", "rake@10.3.2", "rdoc@4.1.1", "ref@1.0.5", "sass@3.2.19",
			"sass-rails@4.0.3", "sdoc@0.4.0", "spring@1.1.3", "sprockets@2.11.0", "sprockets-rails@2.1.3", "sqlite3@1.3.9",
			"therubyracer@0.12.1", "thor@0.19.1", "thread_safe@0.3.3", "tilt@1.4.1", "treetop@1.4.15", "tzinfo@1.2.0",
			"uglifier@2.5.0", "unicorn@4.8.3",
		)},
		{file: "scalibr-rails/Gemfile.lock", want: sorted(
			"actioncable@7.0.2.2", "actionmailbox@7.0.2.2", "actionmailer@7.0.2.2", "actionpack@7.0.2.2",
			"actiontext@7.0.2.2", "actionview@7.0.2.2", "activejob@7.0.2.2", "activemodel@7.0.2.2",
			"activerecord@7.0.2.2", "activestorage@7.0.2.2", "activesupport@7.0.2.2", "builder@3.2.4",
			"concurrent-ruby@1.1.9", "crass@1.0.6", "digest@3.1.0", "erubi@1.10.0", "globalid@1.0.0", "i18n@1.10.0",
			"io-wait@0.2.1", "loofah@2.14.0", "mail@2.7.1", "marcel@1.0.2", "method_source@1.0.0", "mini_mime@1.1.2",
			"minitest@5.15.0", "net-imap@0.2.3", "net-pop@0.1.1", "net-protocol@0.1.2", "net-smtp@0.3.1", "nio4r@2.5.8",
			"nokogiri@1.13.3-x86_64-linux", "racc@1.6.0", "rack@2.2.3", "rack-test@1.1.0", "rails@7.0.2.2",
			"rails-dom-testing@2.0.3", "rails-html-sanitizer@1.4.2", "railties@7.0.2.2", "rake@13.0.6", "strscan@3.0.1",
			"thor@1.2.1", "timeout@0.2.0", "tzinfo@2.0.4", "websocket-driver@0.7.5", "websocket-extensions@0.1.5",
			"zeitwerk@2.5.4",
		)},
	}
	root := corpus.Path(t, "pkgdb", "ruby")
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			content, err := os.ReadFile(filepath.Join(root, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			path := cmpOr(tt.as, tt.file)
			got, pkgs, err := run(t, path, content)
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
				if p.Path != path || p.Type != inventory.TypeGem || p.Ecosystem != "RubyGems" || p.PURL != "pkg:gem/"+p.Name+"@"+p.Version {
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

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestClaims(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec", true},
		{"usr/local/bundle/specifications/default/json-2.6.1.gemspec", true},
		{"usr/local/bundle/default/x.gemspec", false},
		{"specifications/x.gemspec", true},
		{"app/Gemfile.lock", true},
		{"Gemfile.lock", true},
		{"app/mygem.gemspec", false},
		{"app/Gemfile", false},
		{"app/xGemfile.lock", false},
	}
	for _, tt := range tests {
		ecosystemtest.CheckClaim(t, Analyzers(), tt.path, 100, tt.want)
	}
}

func TestGemspecForms(t *testing.T) {
	tests := []struct {
		content  string
		want     []string
		licenses []string
	}{
		{"Gem::Specification.new do |s|\n  s.name = %q{formatador}\n  s.version = %q{0.2.1}\n  s.license = 'MIT'\nend\n", []string{"formatador@0.2.1"}, []string{"MIT"}},
		{"# stub: stubbed 1.2.3 ruby lib\nGem::Specification.new do |spec|\n  spec.name = NAME\nend\n", []string{"stubbed@1.2.3"}, nil},
		{"Gem::Specification.new do |s|\n  s.name = \"v\".freeze\n  s.version = Gem::Version.new(\"2.0.0\")\n  s.licenses = [\"MIT\".freeze, \"Apache-2.0\".freeze]\nend\n", []string{"v@2.0.0"}, []string{"MIT", "Apache-2.0"}},
	}
	for _, tt := range tests {
		got, pkgs, err := run(t, "specifications/x.gemspec", []byte(tt.content))
		if err != nil {
			t.Fatalf("%q: %v", tt.content, err)
		}
		if !slices.Equal(got, tt.want) || !slices.Equal(pkgs[0].Licenses, tt.licenses) {
			t.Errorf("%q: got %q %q, want %q %q", tt.content, got, pkgs[0].Licenses, tt.want, tt.licenses)
		}
	}
}

func TestPlatforms(t *testing.T) {
	content := "GEM\n  specs:\n    nokogiri (1.16.0-arm64-darwin)\n    nokogiri (1.16.0-x86_64-linux)\n    nokogiri (1.16.0-x86_64-linux)\n    rack (3.0.8)\n"
	got, _, err := run(t, "Gemfile.lock", []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"nokogiri@1.16.0-arm64-darwin,x86_64-linux", "rack@3.0.8"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct{ name, path, content string }{
		{"gemspec without literals", "specifications/x.gemspec", "Gem::Specification.new do |s|\n  s.name = NAME\n  s.version = VERSION\nend\n"},
		{"gemspec binary", "specifications/x.gemspec", "\x00\x01\x02"},
		{"gemspec huge line", "specifications/x.gemspec", "s.name = \"" + strings.Repeat("a", 2<<20) + "\"\n"},
		{"lock garbage", "Gemfile.lock", "this is not a lockfile\n"},
		{"lock merge conflict", "Gemfile.lock", "GEM\n  specs:\n<<<<<<< HEAD\n    a (1.0)\n"},
		{"lock bad spec", "Gemfile.lock", "GEM\n  remote: x\n  specs:\n    rack 1.0\n"},
		{"lock range spec", "Gemfile.lock", "GEM\n  specs:\n    rack (>= 1.0)\n"},
		{"lock orphan", "Gemfile.lock", "    rack (1.0)\n"},
		{"lock huge line", "Gemfile.lock", "GEM\n  specs:\n    a (" + strings.Repeat("1", 2<<20) + ")\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := run(t, tt.path, []byte(tt.content)); err == nil {
				t.Error("no error")
			}
		})
	}
}
