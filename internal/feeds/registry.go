// Package feeds owns where vulnerability data comes from and how it gets
// into a new DB: the feed registry (OSV dumps, Alpine secdb, Debian
// tracker and DSA/DLA lists, NVD, EPSS, KEV), downloads with conditional
// requests, retries and size caps, mirrors, and the update that builds a
// new DB while keeping the previous data of feeds that fail.
package feeds

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Upstream locations of the feeds.
const (
	UpstreamOSV       = "https://osv-vulnerabilities.storage.googleapis.com"
	UpstreamAlpine    = "https://secdb.alpinelinux.org"
	UpstreamDebian    = "https://security-tracker.debian.org/tracker/data/json"
	UpstreamDebianDSA = "https://salsa.debian.org/security-tracker-team/security-tracker/raw/master/data/DSA/list"
	UpstreamDebianDLA = "https://salsa.debian.org/security-tracker-team/security-tracker/raw/master/data/DLA/list"
	UpstreamNVD       = "https://services.nvd.nist.gov/rest/json/cves/2.0"
	UpstreamEPSS      = "https://epss.cyentia.com/epss_scores-current.csv.gz"
	UpstreamKEV       = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)

// OSVEcosystems returns the OSV dumps fetched by default.
func OSVEcosystems() []string { return append([]string(nil), osvEcosystems...) }

// AlpineBranches returns the secdb branches fetched by default.
func AlpineBranches() []string { return append([]string(nil), alpineBranches...) }

var osvEcosystems = []string{
	"Go", "PyPI", "npm", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist", "Hex", "Pub",
	"AlmaLinux", "Rocky Linux", "Alpine", "Debian", "Ubuntu", "Wolfi", "Chainguard", "SUSE", "openSUSE", "Red Hat",
}

var alpineBranches = []string{
	"v3.3", "v3.4", "v3.5", "v3.6", "v3.7", "v3.8", "v3.9", "v3.10", "v3.11", "v3.12", "v3.13",
	"v3.14", "v3.15", "v3.16", "v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "v3.22", "edge",
}

var alpineRepos = []string{"main", "community"}

// Document is one fetched feed file.
type Document struct {
	// Body reads the file; it supports ReadAt for zip dumps.
	Body interface {
		Read([]byte) (int, error)
		ReadAt([]byte, int64) (int, error)
	}
	Size int64
	URL  string
}

// ParseFunc imports one fetched document into sink and returns the number
// of records and a warning (malformed entries skipped, ...), if any.
type ParseFunc func(ctx context.Context, doc Document, sink vuln.Sink) (records int, warning string, err error)

// Feed is one source of the DB.
type Feed struct {
	// Name identifies the feed in the DB and on the command line.
	Name string
	// URLs are tried in order; one that does not exist falls through to
	// the next (Alpine publishes JSON upstream, mirrors may hold YAML).
	URLs []string
	// Default feeds are part of an update without --feed.
	Default bool
	Parse   ParseFunc
	// Paged feeds (NVD) fetch many documents; they set Pages instead of
	// URLs and Parse.
	Pages *Pager
}

// Registry returns the feeds for a configuration. It is computed each
// time, so configurations never share state.
func Registry(cfg config.Config) []Feed {
	var feeds []Feed
	f := cfg.Feeds
	osvBase := pick(f.OSV.URL, cfg.Mirror, "osv", UpstreamOSV)
	ecos := f.OSV.Ecosystems
	if len(ecos) == 0 {
		ecos = osvEcosystems
	}
	for _, eco := range ecos {
		feeds = append(feeds, Feed{
			Name:    "osv/" + eco,
			URLs:    []string{join(osvBase, eco, "all.zip")},
			Default: !f.OSV.Disabled,
			Parse:   parseOSVZip,
		})
	}
	alpineBase := pick(f.Alpine.URL, cfg.Mirror, "alpine-secdb", UpstreamAlpine)
	branches := f.Alpine.Branches
	if len(branches) == 0 {
		branches = alpineBranches
	}
	for _, br := range branches {
		for _, repo := range alpineRepos {
			feeds = append(feeds, Feed{
				Name:    "alpine/" + br + "/" + repo,
				URLs:    []string{join(alpineBase, br, repo+".json"), join(alpineBase, br, repo+".yaml")},
				Default: !f.Alpine.Disabled,
				Parse:   parseAlpine,
			})
		}
	}
	feeds = append(feeds,
		Feed{Name: "debian/tracker", URLs: []string{pick(f.Debian.URL, cfg.Mirror, "debian/tracker.json", UpstreamDebian)}, Default: !f.Debian.Disabled, Parse: parseDebianJSON},
		Feed{Name: "debian/dsa", URLs: []string{pick(f.Debian.DSAURL, cfg.Mirror, "debian/DSA-list", UpstreamDebianDSA)}, Default: !f.Debian.Disabled, Parse: parseAdvisoryList("DSA")},
		Feed{Name: "debian/dla", URLs: []string{pick(f.Debian.DLAURL, cfg.Mirror, "debian/DLA-list", UpstreamDebianDLA)}, Default: !f.Debian.Disabled, Parse: parseAdvisoryList("DLA")},
		nvdFeed(cfg),
		Feed{Name: "epss", URLs: []string{pick(f.EPSS.URL, cfg.Mirror, "epss/epss_scores-current.csv.gz", UpstreamEPSS)}, Default: !f.EPSS.Disabled, Parse: parseEPSSDoc},
		Feed{Name: "kev", URLs: []string{pick(f.KEV.URL, cfg.Mirror, "kev/known_exploited_vulnerabilities.json", UpstreamKEV)}, Default: !f.KEV.Disabled, Parse: parseKEVDoc},
	)
	return feeds
}

// Select returns the feeds named (a name or a prefix ending at a "/":
// "alpine" selects every "alpine/..." feed), or the default ones when names
// is empty. Unknown names are returned as the second value.
func Select(all []Feed, names []string) (selected []Feed, unknown []string) {
	if len(names) == 0 {
		for _, f := range all {
			if f.Default {
				selected = append(selected, f)
			}
		}
		return selected, nil
	}
	for _, n := range names {
		n = strings.TrimSuffix(n, "/")
		found := false
		for _, f := range all {
			if f.Name == n || strings.HasPrefix(f.Name, n+"/") {
				found = true
				if !containsFeed(selected, f.Name) {
					selected = append(selected, f)
				}
			}
		}
		if !found {
			unknown = append(unknown, n)
		}
	}
	return selected, unknown
}

func containsFeed(fs []Feed, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

// pick chooses a feed location: its own URL, else the mirror layout, else
// upstream.
func pick(own, mirror, mirrorPath, upstream string) string {
	switch {
	case own != "":
		return own
	case mirror != "":
		return join(mirror, strings.Split(mirrorPath, "/")...)
	}
	return upstream
}

// join appends path elements to a URL or a local directory, escaping them
// for URLs ("Rocky Linux" -> "Rocky%20Linux").
func join(base string, elem ...string) string {
	if isRemote(base) {
		u, err := url.Parse(base)
		if err == nil {
			return u.JoinPath(elem...).String()
		}
	}
	return filepath.Join(append([]string{localPath(base)}, elem...)...)
}

// isRemote reports whether loc is an http(s) URL (schemes are
// case-insensitive); anything else is a local path.
func isRemote(loc string) bool {
	scheme, _, ok := strings.Cut(loc, "://")
	return ok && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"))
}

// localPath turns a file:// URL into its path; other locations are paths
// already.
func localPath(loc string) string {
	if scheme, rest, ok := strings.Cut(loc, "://"); ok && strings.EqualFold(scheme, "file") {
		return rest
	}
	return loc
}
