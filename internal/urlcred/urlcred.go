// Package urlcred keeps credentials that travel inside URLs (user:password@,
// ?token=, ?sig=, ?X-Amz-Signature=...) out of everything Vigil prints, logs
// or stores: feed and mirror locations, --from and --server. The URL still
// reads as the same place, with REDACTED where a secret was.
package urlcred

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a secret.
const Mask = "REDACTED"

// credentialParams are substrings of query parameter names that carry
// credentials (token, access_token, sig, X-Amz-Signature, api_key, apikey,
// client_secret, password, X-Goog-Credential, auth, ...), matched without
// case. Over-matching a harmless parameter only hides its value.
var credentialParams = []string{"token", "sig", "key", "secret", "passw", "pwd", "auth", "credential", "session"}

func isCredentialParam(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	name = strings.ToLower(name)
	for _, p := range credentialParams {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

// Redact returns loc with its user information and the values of
// credential-looking query parameters replaced by REDACTED. Anything that
// is not a URL with a scheme (a local path) is returned unchanged; a URL
// without credentials is returned byte for byte.
func Redact(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		// Unparsable: still cut "//user:pass@" out by pattern.
		return userinfo.ReplaceAllString(loc, "${1}"+Mask+"@")
	}
	if u.Scheme == "" {
		return loc
	}
	changed := false
	if u.User != nil {
		u.User = url.User(Mask)
		changed = true
	}
	if u.RawQuery != "" {
		if q, ok := redactQuery(u.RawQuery); ok {
			u.RawQuery, changed = q, true
		}
	}
	if !changed {
		return loc
	}
	return u.String()
}

// redactQuery masks credential values in a raw query, keeping the order
// and encoding of everything else.
func redactQuery(raw string) (string, bool) {
	parts := strings.Split(raw, "&")
	changed := false
	for i, p := range parts {
		name, value, hasValue := strings.Cut(p, "=")
		if hasValue && value != "" && value != Mask && isCredentialParam(name) {
			parts[i] = name + "=" + Mask
			changed = true
		}
	}
	return strings.Join(parts, "&"), changed
}

var (
	// urlInText finds URLs inside messages (errors from net/http quote
	// them: Get "https://...": ...).
	urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)
	// userinfo is the fallback for URLs url.Parse refuses.
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s"'<>@]*@`)
)

// RedactText redacts every URL in a message.
func RedactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, Redact)
}

// Error wraps err so that its message has its URLs redacted; errors.Is and
// errors.As still see err.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := RedactText(msg); red != msg {
		return &redacted{msg: red, err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
