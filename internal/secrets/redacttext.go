package secrets

import "strings"

// RedactText returns text with every secret the rules find in it masked by
// Redact, and whether anything was masked. Reports use it on the image
// config (Env values, labels, history commands), which they print in full.
func RedactText(text string) (string, bool) {
	hits := defaultScanner().scan([]byte(text), true)
	changed := false
	for _, h := range hits {
		if h.secret == "" || !strings.Contains(text, h.secret) {
			continue
		}
		text = strings.ReplaceAll(text, h.secret, Redact(h.secret))
		changed = true
	}
	return text, changed
}
