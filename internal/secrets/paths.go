package secrets

import (
	"path"
	"strings"
)

// skipExt lists extensions (lower case, no dot) of files that are never
// text worth scanning: media, fonts, archives, compiled code, databases.
var skipExt = toSet(
	// images and fonts
	"png", "jpg", "jpeg", "gif", "bmp", "ico", "icns", "webp", "tif", "tiff", "psd", "xcf", "heic", "avif", "svgz",
	"ttf", "otf", "woff", "woff2", "eot", "pfb", "pfm", "afm", "pcf", "bdf",
	// archives and packages
	"zip", "gz", "tgz", "bz2", "tbz2", "xz", "txz", "zst", "lz4", "lzma", "lz", "br", "7z", "rar", "tar",
	"jar", "war", "ear", "aar", "apk", "deb", "rpm", "whl", "egg", "nupkg", "gem", "crate", "cab", "iso",
	// compiled code and data
	"so", "a", "o", "ko", "dll", "exe", "bin", "db", "sqlite", "sqlite3", "pyc", "pyo", "class",
	"wasm", "node", "dylib", "lib", "obj", "pdb", "mo", "gmo", "rlib", "rmeta", "jks", "keystore", "p12", "pfx",
	"idx", "pack", "cache",
	// media and office documents
	"mp3", "mp4", "m4a", "ogg", "oga", "wav", "flac", "avi", "mov", "mkv", "webm", "pdf",
	"doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp",
	// source maps: generated, large, and full of base64
	"map",
)

// skipPrefixes are trees that hold distribution content, never an image
// author's secrets: documentation, locales, public certificates, package
// databases and caches, toolchains' own sources.
var skipPrefixes = []string{
	"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/", "usr/share/i18n/",
	"usr/share/zoneinfo/", "usr/share/mime/", "usr/share/icons/", "usr/share/fonts/", "usr/share/terminfo/",
	"usr/share/common-licenses/", "usr/share/licenses/", "usr/share/X11/locale/", "usr/share/gtk-doc/",
	"usr/share/help/", "usr/share/ca-certificates/", "usr/share/misc/", "usr/share/javascript/",
	"usr/include/", "usr/local/include/", "usr/lib/locale/",
	"etc/ssl/certs/", "etc/pki/ca-trust/", "etc/pki/tls/certs/", "etc/ca-certificates/",
	// package databases and package-manager caches
	"lib/apk/db/", "var/lib/dpkg/", "var/lib/rpm/", "usr/lib/sysimage/rpm/", "var/lib/apt/lists/",
	"var/cache/apt/", "var/cache/apk/", "var/cache/yum/", "var/cache/dnf/", "var/lib/dnf/", "var/lib/yum/",
	"var/lib/pacman/", "var/cache/ldconfig/",
	// toolchains: their sources carry test keys (Go's net/http/internal/testcert, ...)
	"usr/local/go/", "usr/lib/go/", "usr/lib/golang/", "usr/lib/go-", "usr/share/go-", "usr/lib/jvm/",
	"proc/", "sys/", "dev/",
}

// skipAnywhere are caches whose content is compressed or derived, wherever
// a home directory puts them.
var skipAnywhere = []string{".npm/_cacache/", ".cache/pip/", ".cache/go-build/", ".cache/yarn/", "/.git/objects/"}

// thirdParty marks trees of installed third-party code. Their test, fixture
// and example folders and their documentation are skipped: they are full of
// deliberately fake keys (node-forge, ssh2, Python's own test suite) and an
// image author cannot fix them anyway. Everything else in them is scanned,
// since a published package can leak a real token.
var thirdParty = []string{
	"node_modules/", "site-packages/", "dist-packages/", "/gems/", "vendor/", "pkg/mod/",
	"usr/lib/python", "usr/local/lib/python", "usr/lib/ruby/", "usr/local/lib/ruby/", "usr/share/ruby",
	"usr/lib/perl", "usr/share/perl", "usr/lib/php", "usr/share/php", ".cargo/registry/",
	"third_party/", "third-party/", "thirdparty/", "3rdparty/", "vendored/",
}

// testDirs are folder names that hold tests, fixtures, examples or docs.
var testDirs = toSet("test", "tests", "testdata", "test-data", "__tests__", "__test__", "fixtures", "fixture",
	"__fixtures__", "spec", "specs", "example", "examples", "samples", "doc", "docs", "man")

// docExt are documentation extensions skipped in third-party trees.
var docExt = toSet("md", "markdown", "rst", "adoc", "rdoc", "txt")

// skipPath reports whether the file at p (slash-separated, no leading
// slash) is certainly not worth scanning. It only looks at the string.
func skipPath(p string) bool {
	base := path.Base(p)
	ext := extOf(base)
	if skipExt[ext] || strings.Contains(base, ".so.") {
		return true
	}
	for _, pre := range skipPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	for _, s := range skipAnywhere {
		if strings.Contains(p, s) || strings.HasPrefix(p, s[1:]) && s[0] == '/' {
			return true
		}
	}
	for _, tp := range thirdParty {
		if strings.Contains(p, tp) {
			return inThirdPartyTest(p, base, ext)
		}
	}
	return false
}

// inThirdPartyTest reports whether a file of a third-party tree is a test,
// fixture, example or document.
func inThirdPartyTest(p, base, ext string) bool {
	if docExt[ext] {
		return true
	}
	for _, pre := range []string{"readme", "changelog", "changes", "history", "license", "licence", "authors", "notice"} {
		if len(base) >= len(pre) && strings.EqualFold(base[:len(pre)], pre) {
			return true
		}
	}
	for _, suf := range []string{"_test.go", "_test.py", ".test.js", ".spec.js", ".test.ts", ".spec.ts", "_spec.rb", "_test.rb"} {
		if strings.HasSuffix(base, suf) {
			return true
		}
	}
	if strings.HasPrefix(base, "test_") && ext == "py" {
		return true
	}
	dir := path.Dir(p)
	for dir != "." && dir != "/" && dir != "" {
		if testDirs[strings.ToLower(path.Base(dir))] {
			return true
		}
		dir = path.Dir(dir)
	}
	return false
}

// configExt are extensions of configuration files, where the generic rule
// also accepts unquoted values ("password = s3cr3t!x9").
var configExt = toSet("env", "ini", "conf", "cfg", "cnf", "properties", "yaml", "yml", "toml", "json", "xml",
	"config", "npmrc", "pypirc", "netrc", "pgpass", "tfvars", "sh", "bash", "zsh", "ksh", "rc", "service")

// configNames are configuration files known by name.
var configNames = toSet(".env", "credentials", "config", ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc",
	".git-credentials", ".dockercfg", "environment", ".bashrc", ".profile", ".bash_profile", ".zshrc",
	"dockerfile", "containerfile", ".htpasswd", "settings")

// isConfigFile reports whether p is a configuration file (see configExt).
// Everything under etc/ counts.
func isConfigFile(p string) bool {
	if strings.HasPrefix(p, "etc/") {
		return true
	}
	base := strings.ToLower(path.Base(p))
	if configNames[base] || strings.HasPrefix(base, ".env.") {
		return true
	}
	return configExt[extOf(base)]
}

// extOf returns the lower-cased extension of a file name, without the dot.
func extOf(base string) string {
	i := strings.LastIndexByte(base, '.')
	if i < 0 || i == len(base)-1 {
		return ""
	}
	ext := base[i+1:]
	for j := 0; j < len(ext); j++ {
		if c := ext[j]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(ext)
		}
	}
	return ext
}

func toSet(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}
