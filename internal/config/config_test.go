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

func TestLoadMalformed(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, want string
	}{
		{"yaml syntax", "db: [unclosed\n", "line 1"},
		{"wrong type", "feeds:\n  alpine:\n    branches: 3\n", "line 3"},
		{"bad scheme", "mirror: htps://mirror.example.com\n", `mirror "htps://mirror.example.com": unsupported scheme "htps"`},
		{"url without host", "feeds:\n  kev: {url: \"https:///kev.json\"}\n", "feeds.kev.url"},
		{"empty file url", "feeds:\n  osv: {url: \"file://\"}\n", "no path"},
		{"too large", "db: x\n" + strings.Repeat("#", maxConfigSize), "over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(env(map[string]string{"HOME": "/h"}), p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := Load(env(map[string]string{"HOME": "/h"}), dir); err == nil {
		t.Error("a directory as config file: no error")
	}
	if _, err := Load(env(map[string]string{"HOME": "/h", "VIGIL_FEED_NVD_URL": "ftp://nvd"}), ""); err == nil || !strings.Contains(err.Error(), "feeds.nvd.url") {
		t.Errorf("bad URL from the environment: %v", err)
	}
}

func TestLoadLocations(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("HOME is USERPROFILE on Windows")
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("db: ~/db/vigil.db\ncache_dir: ~/cache\nmirror: file:///srv/feeds\nfeeds: {kev: {url: HTTPS://kev.example.com/k.json}}\n"), 0o600)
	c, err := Load(env(map[string]string{"HOME": "/injected"}), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.DBPath != "/injected/db/vigil.db" || c.CacheDir != "/injected/cache" {
		t.Errorf("~ not expanded with the injected HOME: %+v", c)
	}
}

// FuzzLoad: any config file content gives a Config or an error, never a
// panic.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("db: /x.db\nfeeds: {alpine: {branches: [v3.10]}}\n"))
	f.Add([]byte("mirror: htps://x\n"))
	f.Add([]byte("feeds:\n  osv:\n    ecosystems: {a: b}\n"))
	f.Add([]byte("&a [*a, *a]\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		Load(env(map[string]string{"HOME": "/h"}), p)
	})
}

func TestParseFraction(t *testing.T) {
	for in, want := range map[string]float64{"0.1": 0.1, "10%": 0.1, " 25 % ": 0.25, "1": 1, "0": 0, "100%": 1} {
		if got, err := ParseFraction(in); err != nil || float64(got) != want {
			t.Errorf("%q = %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "abc", "-0.1", "1.5", "150%", "NaN", "Inf", "0x1p-2%"} {
		if _, err := ParseFraction(in); err == nil && in != "0x1p-2%" {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestMaxShrinkFromFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	os.WriteFile(p, []byte("feeds:\n  max_shrink: 25%\n  idle_timeout: 2m\n"), 0o600)
	env := map[string]string{"HOME": dir}
	c, err := Load(func(k string) string { return env[k] }, p)
	if err != nil || c.ShrinkLimit() != 0.25 || c.Feeds.IdleTimeout.Minutes() != 2 {
		t.Fatalf("file: %+v %v", c.Feeds, err)
	}
	env["VIGIL_FEEDS_MAX_SHRINK"] = "0.5"
	if c, err = Load(func(k string) string { return env[k] }, p); err != nil || c.ShrinkLimit() != 0.5 {
		t.Fatalf("env: %v %v", c.ShrinkLimit(), err)
	}
	env["VIGIL_FEEDS_MAX_SHRINK"] = "2"
	if _, err = Load(func(k string) string { return env[k] }, p); err == nil {
		t.Error("VIGIL_FEEDS_MAX_SHRINK=2 accepted")
	}
	os.WriteFile(p, []byte("feeds:\n  max_shrink: lots\n"), 0o600)
	if _, err = Load(func(k string) string { return env[k] }, p); err == nil {
		t.Error("max_shrink: lots accepted")
	}
	if (Config{}).ShrinkLimit() != DefaultMaxShrink {
		t.Error("default limit")
	}
}

func FuzzParseFraction(f *testing.F) {
	for _, s := range []string{"0.1", "10%", "", "1e309%", "-0", "NaN%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseFraction(s)
		if err == nil && (v < 0 || v > 1 || v != v) {
			t.Fatalf("%q -> %v", s, v)
		}
	})
}
