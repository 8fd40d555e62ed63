package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// maxStars bounds the masked part of a redacted secret, so a long token does
// not flood a report.
const maxStars = 32

// knownPrefixes are public, fixed parts of token formats. Redact may show
// them in full: they say what the token is without revealing any of it.
var knownPrefixes = []string{
	"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-",
	"xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxr-", "xoxs-", "npm_",
	"pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw", "eyJ",
}

// Redact masks a secret, keeping a short prefix so a reader can tell which
// credential it is: a known token prefix ("ghp_", "xoxb-") or up to four
// characters, never more than a quarter of the secret. The rest becomes
// '*', one per character up to 32.
//
//	Redact("AKIAIOSFODNN7EXAMPLE") == "AKIA****************"
func Redact(s string) string {
	n := len(s)
	keep := 0
	switch {
	case n >= 16:
		keep = 4
	case n >= 8:
		keep = 2
	}
	for _, p := range knownPrefixes {
		if strings.HasPrefix(s, p) && len(p) > keep && len(p) <= n/2 {
			keep = len(p)
			break
		}
	}
	// Never cut a UTF-8 sequence in half.
	for keep > 0 && keep < n && s[keep]&0xC0 == 0x80 {
		keep--
	}
	stars := min(n-keep, maxStars)
	if n == 0 {
		stars = 0
	}
	return s[:keep] + strings.Repeat("*", stars)
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s []byte) float64 {
	if len(s) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range s {
		counts[c]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// charClasses counts which of lower case, upper case, digits and other
// characters occur in s.
func charClasses(s []byte) int {
	var lowerC, upperC, digit, other int
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			lowerC = 1
		case c >= 'A' && c <= 'Z':
			upperC = 1
		case c >= '0' && c <= '9':
			digit = 1
		default:
			other = 1
		}
	}
	return lowerC + upperC + digit + other
}

// placeholderWords, found anywhere in a lower-cased value, mark it as a
// stand-in rather than a credential.
var placeholderWords = []string{
	"changeme", "change_me", "change-me", "changeit", "placeholder", "example", "dummy",
	"sample", "redacted", "xxxx", "****", "....", "your_", "your-", "yourpassword", "yoursecret",
	"yourtoken", "insert", "replace", "fixme", "todo", "notasecret", "secret_here", "password",
	"12345678", "abcdefgh", "qwerty",
}

// isPlaceholder reports whether a value is a template variable, a
// reference or an obvious stand-in ("${DB_PASSWORD}", "<token>",
// "{{ .Values.x }}", "%(pw)s", "changeme", "xxxxxxxx").
func isPlaceholder(s []byte) bool {
	if isTemplate(s) {
		return true
	}
	l := bytes.ToLower(s)
	for _, w := range placeholderWords {
		if bytes.Contains(l, []byte(w)) {
			return true
		}
	}
	return false
}

// isTemplate reports whether a value is a template variable or reference
// rather than a literal, or one character repeated.
func isTemplate(s []byte) bool {
	if len(s) == 0 {
		return true
	}
	switch s[0] {
	case '$', '<', '{', '%', '!', '@', '[', '(', '&', '*':
		return true
	}
	if bytes.Contains(s, []byte("${")) || bytes.Contains(s, []byte("{{")) || bytes.Contains(s, []byte("%(")) {
		return true
	}
	if bytes.HasSuffix(s, []byte(">")) || bytes.HasSuffix(s, []byte("}")) {
		return true
	}
	// One repeated character: "aaaaaaaa", "00000000".
	return bytes.Count(s, s[:1]) == len(s)
}

// validJWT checks that the first part of a JWT candidate decodes to a JSON
// object with an "alg" member, which random base64 practically never does.
func validJWT(tok []byte) bool {
	head, _, ok := bytes.Cut(tok, []byte("."))
	if !ok || len(head) > 2048 {
		return false
	}
	raw := make([]byte, base64.RawURLEncoding.DecodedLen(len(head)))
	n, err := base64.RawURLEncoding.Decode(raw, bytes.TrimRight(head, "="))
	if err != nil {
		return false
	}
	var h struct {
		Alg *string `json:"alg"`
	}
	return json.Unmarshal(raw[:n], &h) == nil && h.Alg != nil
}
