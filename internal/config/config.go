// Package config owns Vigil's configuration: where the vulnerability DB and
// caches live, the feed mirror and per-feed URLs. Values come from, in
// increasing priority: defaults, the YAML config file, the environment,
// and command-line flags (applied by the CLI). See docs/configuration.md.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/urlcred"
)

// Config is the resolved configuration.
type Config struct {
	// DBPath is the vulnerability DB file.
	DBPath string `yaml:"db"`
	// CacheDir holds downloads and prebuilt DBs.
	CacheDir string `yaml:"cache_dir"`
	// Mirror is a local directory or http(s) URL laid out like the feeds
	// corpus; when set, every feed is read from it.
	Mirror string `yaml:"mirror"`
	// DBRepository is where a scan without a DB downloads one: an
	// oci://REGISTRY/REPO:TAG artifact (`vigil db publish`) or a Vigil
	// server URL; empty means build it from the feeds (or Mirror).
	DBRepository string `yaml:"db_repository"`
	Feeds        Feeds  `yaml:"feeds"`
	// Scan holds defaults for the scanning commands' flags, keyed by flag
	// name (scan: {severity-threshold: HIGH}). It stays a YAML node so the
	// CLI, which knows the flags, can check keys and report lines.
	Scan yaml.Node `yaml:"scan"`
	// Server configures `vigil serve` and `vigil worker` (docs/server.md).
	Server Server `yaml:"server"`
	// File is the config file that was read ("" when none).
	File string `yaml:"-"`
}

// Server is the service's section of the config file; flags and the
// VIGIL_LISTEN, VIGIL_DATA_DIR and VIGIL_DATABASE variables override it.
type Server struct {
	Listen   string `yaml:"listen"`
	DataDir  string `yaml:"data_dir"`
	Database string `yaml:"database"`
	// Concurrency is the number of jobs a process works at once.
	Concurrency int `yaml:"concurrency"`
	// Daily is the interval of the re-evaluation pass ("24h").
	Daily string `yaml:"daily"`
	// Refresh is the interval of the feed refresh ("6h").
	Refresh string `yaml:"refresh"`
	// PushedWindow and PulledWindow select the images the daily pass
	// re-evaluates ("2160h" = 90 days, "720h" = 30 days).
	PushedWindow string `yaml:"pushed_window"`
	PulledWindow string `yaml:"pulled_window"`
	// HarborRegistries are the registry hosts the Harbor scanner API may
	// pull from (host or host:port); empty allows any.
	HarborRegistries []string `yaml:"harbor_registries"`
	// MaxBody bounds an API request body, a published report above all
	// ("16MiB", the default).
	MaxBody string `yaml:"max_body"`
}

// Feeds configures the individual feeds; empty values mean upstream.
type Feeds struct {
	// MaxShrink is the largest drop in a feed's record count, as a fraction
	// of the previous import, that an update accepts (0 means the default,
	// DefaultMaxShrink; 1 turns the check off). A feed that shrinks more is
	// held back with its previous rows until `db update --accept-shrink`.
	MaxShrink Fraction `yaml:"max_shrink"`
	// IdleTimeout is how long a download may receive nothing before it is
	// abandoned and retried (0 means 30 s).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	OSV         OSVFeed       `yaml:"osv"`
	Alpine      AlpineFeed    `yaml:"alpine"`
	Debian      DebianFeed    `yaml:"debian"`
	NVD         NVDFeed       `yaml:"nvd"`
	EPSS        URLFeed       `yaml:"epss"`
	KEV         URLFeed       `yaml:"kev"`
}

// URLFeed is a feed with only a URL and an on/off switch.
type URLFeed struct {
	URL string `yaml:"url"`
	// Disabled leaves the feed out of default updates.
	Disabled bool `yaml:"disabled"`
}

// OSVFeed is the OSV bucket: <url>/<Ecosystem>/all.zip.
type OSVFeed struct {
	URL string `yaml:"url"`
	// Ecosystems limits the OSV ecosystems fetched (default: all known).
	Ecosystems []string `yaml:"ecosystems"`
	Disabled   bool     `yaml:"disabled"`
}

// AlpineFeed is the Alpine secdb: <url>/<branch>/<repo>.json.
type AlpineFeed struct {
	URL      string   `yaml:"url"`
	Branches []string `yaml:"branches"`
	Disabled bool     `yaml:"disabled"`
}

// DebianFeed is the security tracker JSON and the DSA/DLA lists.
type DebianFeed struct {
	URL      string `yaml:"url"`
	DSAURL   string `yaml:"dsa_url"`
	DLAURL   string `yaml:"dla_url"`
	Disabled bool   `yaml:"disabled"`
}

// NVDFeed is the NVD CVE API 2.0. It is off by default against upstream
// (a full download takes many minutes under NVD's rate limits) and on
// when a mirror is used, an API key is set, or Enabled is true.
type NVDFeed struct {
	URL     string `yaml:"url"`
	APIKey  string `yaml:"api_key"`
	Enabled bool   `yaml:"enabled"`
}

// maxConfigSize bounds the config file.
const maxConfigSize = 1 << 20

// Load resolves the configuration. path is the --config flag value; when
// empty, VIGIL_CONFIG, then <config dir>/vigil/config.yaml (optional) are
// used. getenv reads the environment (tests inject their own).
func Load(getenv func(string) string, path string) (Config, error) {
	c, err := LoadFile(getenv, path)
	if err != nil {
		return c, err
	}
	applyEnv(getenv, &c)
	if err := applyTypedEnv(getenv, &c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	cache := userCacheDir(getenv)
	if c.CacheDir == "" {
		if cache == "" {
			return c, errors.New("no cache directory: set VIGIL_CACHE_DIR or HOME")
		}
		c.CacheDir = filepath.Join(cache, "vigil")
	}
	if c.DBPath == "" {
		c.DBPath = filepath.Join(c.CacheDir, "db", "vigil.db")
	}
	return c, nil
}

// LoadFile reads the config file alone, without the environment or
// defaults: path is the --config flag value; when empty, VIGIL_CONFIG,
// then <config dir>/vigil/config.yaml (optional) are used.
func LoadFile(getenv func(string) string, path string) (Config, error) {
	var c Config
	explicit := path != ""
	if path == "" {
		path = getenv("VIGIL_CONFIG")
		explicit = path != ""
	}
	if path == "" {
		if dir := userConfigDir(getenv); dir != "" {
			path = filepath.Join(dir, "vigil", "config.yaml")
		}
	}
	if path != "" {
		if err := readFile(path, &c); err != nil {
			if explicit || !errors.Is(err, fs.ErrNotExist) {
				return c, err
			}
		} else {
			c.File = path
			c.DBPath = expandHome(getenv, c.DBPath)
			c.CacheDir = expandHome(getenv, c.CacheDir)
		}
	}
	return c, nil
}

// Validate checks that the mirror and every feed location is an http(s)
// URL, a file:// URL or a local path (a typo such as "htps://" would
// otherwise be read as a local directory where every feed is missing), and
// that the feed limits are in range.
func (c Config) Validate() error {
	if c.Feeds.MaxShrink < 0 || c.Feeds.MaxShrink > 1 {
		return fmt.Errorf("config feeds.max_shrink %v: want a fraction from 0 to 1 (or a percentage like 10%%)", float64(c.Feeds.MaxShrink))
	}
	if c.Feeds.IdleTimeout < 0 {
		return fmt.Errorf("config feeds.idle_timeout %s: must not be negative", c.Feeds.IdleTimeout)
	}
	for _, l := range []struct{ name, loc string }{
		{"mirror", c.Mirror},
		{"feeds.osv.url", c.Feeds.OSV.URL},
		{"feeds.alpine.url", c.Feeds.Alpine.URL},
		{"feeds.debian.url", c.Feeds.Debian.URL},
		{"feeds.debian.dsa_url", c.Feeds.Debian.DSAURL},
		{"feeds.debian.dla_url", c.Feeds.Debian.DLAURL},
		{"feeds.nvd.url", c.Feeds.NVD.URL},
		{"feeds.epss.url", c.Feeds.EPSS.URL},
		{"feeds.kev.url", c.Feeds.KEV.URL},
	} {
		if err := checkLocation(l.loc); err != nil {
			return fmt.Errorf("config %s %q: %w", l.name, urlcred.Redact(l.loc), err)
		}
	}
	if err := CheckDBRepository(c.DBRepository); err != nil {
		return fmt.Errorf("db_repository (VIGIL_DB_REPOSITORY) %q: %w", c.DBRepository, err)
	}
	return nil
}

// CheckDBRepository accepts "", oci://REF or an http(s) Vigil server URL.
func CheckDBRepository(loc string) error {
	if loc == "" || strings.HasPrefix(loc, "oci://") && len(loc) > len("oci://") {
		return nil
	}
	scheme, _, ok := strings.Cut(loc, "://")
	if ok && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")) {
		return checkLocation(loc)
	}
	return errors.New("want oci://REGISTRY/REPO:TAG or an http(s):// Vigil server URL")
}

func checkLocation(loc string) error {
	scheme, rest, ok := strings.Cut(loc, "://")
	if !ok {
		return nil // a local path
	}
	switch strings.ToLower(scheme) {
	case "http", "https":
		u, err := url.Parse(loc)
		if err != nil {
			return err
		}
		if u.Host == "" {
			return errors.New("no host")
		}
	case "file":
		if rest == "" {
			return errors.New("no path")
		}
	default:
		return fmt.Errorf("unsupported scheme %q: want http, https, file or a local path", scheme)
	}
	return nil
}

func readFile(path string, c *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return fmt.Errorf("reading config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return fmt.Errorf("config %s is over %d bytes", path, maxConfigSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

func applyEnv(getenv func(string) string, c *Config) {
	set := func(dst *string, key string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	set(&c.DBPath, "VIGIL_DB")
	set(&c.Server.Listen, "VIGIL_LISTEN")
	set(&c.Server.DataDir, "VIGIL_DATA_DIR")
	set(&c.Server.Database, "VIGIL_DATABASE")
	set(&c.CacheDir, "VIGIL_CACHE_DIR")
	set(&c.Mirror, "VIGIL_FEEDS_MIRROR")
	set(&c.DBRepository, "VIGIL_DB_REPOSITORY")
	set(&c.Feeds.OSV.URL, "VIGIL_FEED_OSV_URL")
	set(&c.Feeds.Alpine.URL, "VIGIL_FEED_ALPINE_URL")
	set(&c.Feeds.Debian.URL, "VIGIL_FEED_DEBIAN_URL")
	set(&c.Feeds.Debian.DSAURL, "VIGIL_FEED_DEBIAN_DSA_URL")
	set(&c.Feeds.Debian.DLAURL, "VIGIL_FEED_DEBIAN_DLA_URL")
	set(&c.Feeds.NVD.URL, "VIGIL_FEED_NVD_URL")
	set(&c.Feeds.NVD.APIKey, "VIGIL_NVD_API_KEY")
	set(&c.Feeds.EPSS.URL, "VIGIL_FEED_EPSS_URL")
	set(&c.Feeds.KEV.URL, "VIGIL_FEED_KEV_URL")
}

// applyTypedEnv reads the environment variables that are not strings.
func applyTypedEnv(getenv func(string) string, c *Config) error {
	if v := strings.TrimSpace(getenv("VIGIL_FEEDS_MAX_SHRINK")); v != "" {
		f, err := ParseFraction(v)
		if err != nil {
			return fmt.Errorf("VIGIL_FEEDS_MAX_SHRINK: %w", err)
		}
		c.Feeds.MaxShrink = f
	}
	if v := strings.TrimSpace(getenv("VIGIL_FEEDS_IDLE_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("VIGIL_FEEDS_IDLE_TIMEOUT %q: want a duration such as 30s", v)
		}
		c.Feeds.IdleTimeout = d
	}
	return nil
}

// expandHome expands a leading "~/" with the injected environment's home
// directory, as os.UserHomeDir would.
func expandHome(getenv func(string) string, p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p
	}
	home := getenv("HOME")
	if runtime.GOOS == "windows" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		return p
	}
	return filepath.Join(home, rest)
}

// userCacheDir follows os.UserCacheDir but reads the injected environment.
func userCacheDir(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows":
		return getenv("LocalAppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Caches")
		}
		return ""
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache")
	}
	return ""
}

// userConfigDir follows os.UserConfigDir but reads the injected environment.
func userConfigDir(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows":
		return getenv("AppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support")
		}
		return ""
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

// DefaultMaxShrink is the largest record-count drop accepted by default.
const DefaultMaxShrink = 0.10

// Fraction is a share from 0 to 1, written as a number (0.1) or a
// percentage ("10%") in the config file, environment and flags.
type Fraction float64

// ParseFraction reads "0.1" or "10%".
func ParseFraction(s string) (Fraction, error) {
	s = strings.TrimSpace(s)
	pct, isPct := strings.CutSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a fraction (0.1) or a percentage (10%%)", s)
	}
	if isPct {
		f /= 100
	}
	if f < 0 || f > 1 || f != f {
		return 0, fmt.Errorf("%q is out of range: want 0 to 1, or 0%% to 100%%", s)
	}
	return Fraction(f), nil
}

// UnmarshalYAML accepts both spellings.
func (f *Fraction) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseFraction(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*f = v
	return nil
}

// String prints the fraction as a percentage.
func (f Fraction) String() string {
	return strconv.FormatFloat(float64(f)*100, 'g', -1, 64) + "%"
}

// Set implements pflag.Value, so --max-shrink takes either spelling.
func (f *Fraction) Set(s string) error {
	v, err := ParseFraction(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Type implements pflag.Value.
func (f *Fraction) Type() string { return "fraction" }

// ShrinkLimit is the effective MaxShrink.
func (c Config) ShrinkLimit() float64 {
	if c.Feeds.MaxShrink > 0 {
		return float64(c.Feeds.MaxShrink)
	}
	return DefaultMaxShrink
}
