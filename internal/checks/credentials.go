package checks

import (
	"regexp"
	"strings"
	"unicode"
)

// Names and values that suggest a credential in the image config (ENV,
// LABEL), in build arguments kept by the history, or in a RUN step's
// assignments. Values are only ever tested, never reported.

// Words of a variable name that mark it as holding a credential.
var secretWords = map[string]bool{
	"PASSWORD": true, "PASSWD": true, "PASS": true, "PWD": true, "SECRET": true, "SECRETS": true,
	"TOKEN": true, "TOKENS": true, "APIKEY": true, "CREDENTIAL": true, "CREDENTIALS": true,
	"KEY": true, "KEYS": true, "PASSPHRASE": true,
}

// Substrings that mark a name even without separators (DBPASSWORD).
var secretParts = []string{"PASSWORD", "PASSWD", "SECRET", "APIKEY", "ACCESSKEY", "PRIVATEKEY", "AUTHTOKEN", "PASSPHRASE"}

// A name ending in one of these words holds where or how a credential is
// found, not the credential itself (POSTGRES_PASSWORD_FILE, TOKEN_URL).
var secretRefWords = map[string]bool{
	"FILE": true, "PATH": true, "DIR": true, "URL": true, "URI": true, "ENDPOINT": true, "SERVER": true,
	"ID": true, "NAME": true, "LENGTH": true, "TYPE": true, "ENABLED": true, "REQUIRED": true, "POLICY": true,
}

// A KEY preceded by one of these is public (GPG_KEY, NGINX_GPGKEY, PUBLIC_KEY).
var publicKeyWords = map[string]bool{"GPG": true, "PGP": true, "PUBLIC": true, "PUB": true, "GPGKEY": true, "GPGKEYS": true}

// acceptedNames are never reported (as Dockle's default --accept-key).
var acceptedNames = map[string]bool{"GPG_KEY": true, "GPG_KEYS": true, "PWD": true, "OLDPWD": true}

// suspiciousName reports whether a variable or label name looks like it
// holds a credential. accept lists names the user accepted (upper case).
func suspiciousName(name string, accept map[string]bool) bool {
	upper := strings.ToUpper(name)
	if acceptedNames[upper] || accept[upper] {
		return false
	}
	words := nameWords(name)
	if len(words) == 0 || secretRefWords[words[len(words)-1]] {
		return false
	}
	for i, w := range words {
		if !secretWords[w] {
			continue
		}
		if (w == "KEY" || w == "KEYS") && i > 0 && publicKeyWords[words[i-1]] {
			continue
		}
		return true
	}
	compact := strings.Join(words, "")
	for _, p := range secretParts {
		if strings.Contains(compact, p) {
			return true
		}
	}
	return false
}

// nameWords splits a name into upper-case words at separators and
// camelCase boundaries: "dbPassword" -> DB PASSWORD, "AWS_SECRET-key" ->
// AWS SECRET KEY.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	runes := []rune(name)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range runes {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(runes[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// urlPassword matches the user:password@ part of a URL; group 1 is up to
// the colon.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^/\s@$][^/\s@]*@`)

// valuePatterns recognise values that are credentials whatever their name:
// formats with a distinctive prefix, so false positives are rare.
var valuePatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"AWS access key ID", regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"GitHub token", regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`)},
	{"GitLab token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{"Slack token", regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"Stripe secret key", regexp.MustCompile(`\b[sr]k_live_[A-Za-z0-9]{16,}`)},
	{"npm token", regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"URL with an embedded password", urlPassword},
}

// credentialValue names the kind of credential value is, "" if none.
func credentialValue(value string) string {
	if len(value) > 64<<10 {
		value = value[:64<<10]
	}
	for _, p := range valuePatterns {
		if p.re.MatchString(value) {
			return p.what
		}
	}
	return ""
}

// literalValue reports whether an assigned value is a literal worth
// testing: not empty, not just a reference to another variable.
func literalValue(v string) bool {
	v = strings.Trim(v, `"'`)
	return v != "" && !strings.HasPrefix(v, "$")
}
