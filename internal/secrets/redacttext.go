package secrets

import "strings"

// RedactText returns text with every secret the rules find in it masked by
// Redact, and whether anything was masked. Reports use it on the image
// config (Env values, labels, history commands), which they print in full.
// A private key's BEGIN line, which is how the rules report a key, is left
// as it is: the key body after it is the secret (see maskPEMBodies).
func RedactText(text string) (string, bool) {
	hits := defaultScanner().scan([]byte(text), true)
	changed := false
	for _, h := range hits {
		if h.rule.ID == RulePrivateKey || h.secret == "" || !strings.Contains(text, h.secret) {
			continue
		}
		text = strings.ReplaceAll(text, h.secret, Redact(h.secret))
		changed = true
	}
	return text, changed
}
