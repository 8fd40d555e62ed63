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
	"sk_live_", "rk_live_", "whsec_", "sk-ant-api03-", "sk-ant-admin01-", "sk-proj-", "sk-svcacct-", "sk-or-v1-",
	"dckr_pat_", "hf_", "AIzaSy", "GOCSPX-", "xapp-", "dop_v1_", "rubygems_", "pplx-", "xai-", "PMAK-", "PMAT-",
	"HRKU-", "sq0csp-", "CCIPAT_", "CCIPRJ_", "ddp_", "ddo_", "hvs.", "hvb.", "SG.",
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
	var buf [256]byte
	l := buf[:0]
	if len(s) > len(buf) {
		l = make([]byte, 0, len(s))
	}
	for _, c := range s {
		l = append(l, lower(c))
	}
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

// looksLikeIdentifier reports whether a value reads as a name rather than
// random text: at least 70% of its letters and digits belong to
// pronounceable words of three or more letters. Words split at non-letters
// and at case changes that start a new word ("StreamDescription.Shards",
// "storage_v1_client", "V1ServiceAccountToken", "HTTPServer"); a word is
// pronounceable when at least a fifth of it is vowels and no more than
// four consonants follow each other. Random strings rarely pass both.
//
// Lower-case words joined by dots, dashes or underscores are names too
// ("passwd.shell.root", "sysctl.extra"): secrets have digits or capitals.
func looksLikeIdentifier(s []byte) bool {
	alnum, inWords := 0, 0
	dotted, plain := false, true
	for _, c := range s {
		switch {
		case isAlnum(c):
			alnum++
			plain = plain && isLower(c)
		case c == '.' || c == '-' || c == '_':
			dotted = true
		default:
			plain = false
		}
	}
	if dotted && plain {
		return true
	}
	for i := 0; i < len(s); {
		if !isLetter(s[i]) {
			i++
			continue
		}
		j := wordEnd(s, i)
		if j-i >= 3 && pronounceable(s[i:j]) {
			inWords += j - i
		}
		i = j
	}
	return alnum > 0 && inWords*10 >= alnum*7
}

// wordEnd returns the end of the word starting at s[i]: a run of lower
// case letters, optionally capitalised, or a run of capitals that stops
// before a capitalised word ("HTTPServer" -> "HTTP", "Server").
func wordEnd(s []byte, i int) int {
	j := i + 1
	if isUpper(s[i]) && j < len(s) && isUpper(s[j]) {
		for j < len(s) && isUpper(s[j]) && !(j+1 < len(s) && isLower(s[j+1])) {
			j++
		}
		return j
	}
	for j < len(s) && isLower(s[j]) {
		j++
	}
	return j
}

func pronounceable(w []byte) bool {
	vowels, run := 0, 0
	for _, c := range w {
		switch lower(c) {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			vowels++
			run = 0
		default:
			if run++; run > 4 {
				return false
			}
		}
	}
	return vowels*5 >= len(w)
}

func isLower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLetter(c byte) bool { return isLower(c) || isUpper(c) }
func isAlnum(c byte) bool  { return isLetter(c) || c >= '0' && c <= '9' }

// hasKeyBody reports whether the text after a PEM BEGIN line starts with
// key material: 40 or more base64 characters that are not a placeholder
// ("XXXX", "..."), possibly after quotes, escaped newlines and string
// concatenation in source code, or legacy encryption headers.
func hasKeyBody(b []byte) bool {
	for range 6 { // separators and header lines, alternately
		b = skipPEMSeparators(b)
		h, rest, ok := pemHeader(b)
		if !ok {
			break
		}
		if bytes.Equal(h, []byte("Proc-Type")) {
			return true // legacy encrypted PEM
		}
		b = rest
	}
	n := 0
	for n < len(b) && isBase64(b[n]) {
		n++
	}
	return n >= 40 && entropy(b[:n]) >= 3.5
}

// skipPEMSeparators skips blanks, quotes, escaped newlines and string
// concatenation between a BEGIN line and the key material.
func skipPEMSeparators(b []byte) []byte {
	for len(b) > 0 {
		switch c := b[0]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'' || c == '`' || c == '+' || c == ',':
			b = b[1:]
		case c == '\\' && len(b) > 1 && (b[1] == 'n' || b[1] == 'r'):
			b = b[2:]
		default:
			return b
		}
	}
	return b
}

// pemHeader parses a "Name: value" armor header line (PGP "Version:",
// PEM "Proc-Type:") and returns its name and the text after the line.
func pemHeader(b []byte) (name, rest []byte, ok bool) {
	i := 0
	for i < len(b) && i < 32 && (b[i] >= 'A' && b[i] <= 'Z' || b[i] >= 'a' && b[i] <= 'z' || b[i] == '-') {
		i++
	}
	if i == 0 || i+1 >= len(b) || b[i] != ':' || b[i+1] != ' ' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[i:], '\n')
	if esc := bytes.Index(b[i:], []byte(`\n`)); esc >= 0 && (end < 0 || esc < end) {
		end = esc
	}
	if end < 0 {
		return b[:i], nil, true
	}
	return b[:i], b[i+end:], true
}

func isBase64(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}
