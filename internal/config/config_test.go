package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrecedence(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("default paths checked for Linux")
	}
	home := t.TempDir()
	cfgFile := filepath.Join(home, "vigil.yaml")
	os.WriteFile(cfgFile, []byte(`
db: /from/file.db
mirror: https://mirror.example.com/feeds
feeds:
  alpine: {branches: [v3.10]}
  nvd: {url: https://nvd.example.com, api_key: k1}
  kev: {disabled: true}
`), 0o600)
	xdg := filepath.Join(home, "xdgconf", "vigil")
	os.MkdirAll(xdg, 0o755)
	os.WriteFile(filepath.Join(xdg, "config.yaml"), []byte("mirror: /xdg/mirror\n"), 0o600)

	tests := []struct {
		name    string
		env     map[string]string
		path    string
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", map[string]string{"HOME": home}, "", func(c Config) bool {
			return c.CacheDir == filepath.Join(home, ".cache", "vigil") && c.DBPath == filepath.Join(home, ".cache", "vigil", "db", "vigil.db") && c.File == ""
		}, ""},
		{"file", map[string]string{"HOME": home}, cfgFile, func(c Config) bool {
			return c.DBPath == "/from/file.db" && c.Feeds.Alpine.Branches[0] == "v3.10" && c.Feeds.NVD.APIKey == "k1" && c.Feeds.KEV.Disabled && c.File == cfgFile
		}, ""},
		{"env beats file", map[string]string{"HOME": home, "VIGIL_CONFIG": cfgFile, "VIGIL_DB": "/env.db", "VIGIL_FEEDS_MIRROR": "/m", "VIGIL_FEED_OSV_URL": "https://osv"}, "", func(c Config) bool {
			return c.DBPath == "/env.db" && c.Mirror == "/m" && c.Feeds.OSV.URL == "https://osv"
		}, ""},
		{"xdg config", map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "xdgconf"), "VIGIL_CACHE_DIR": "/c"}, "", func(c Config) bool {
			return c.Mirror == "/xdg/mirror" && c.DBPath == "/c/db/vigil.db"
		}, ""},
		{"missing explicit file", map[string]string{"HOME": home}, filepath.Join(home, "nope.yaml"), nil, "no such file"},
		{"no home", map[string]string{}, "", nil, "no cache directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env), tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("mirorr: typo\n"), 0o600)
	if _, err := Load(env(map[string]string{"HOME": "/h"}), p); err == nil || !strings.Contains(err.Error(), "mirorr") {
		t.Fatalf("err %v", err)
	}
}
