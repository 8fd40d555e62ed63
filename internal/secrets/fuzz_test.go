package secrets

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// fuzzSeeds are texts that reach every rule and the parsers' edge cases.
func fuzzSeeds() []string {
	return []string{
		"", "\n\n", "password=", "password: \"", "token = 'abc", "a=b\r\nc: d",
		pem("RSA PRIVATE KEY"), pem("OPENSSH PRIVATE KEY"),
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n",
		"aws_access_key_id = " + awsKeyID + "\naws_secret_access_key = " + awsSecret,
		"AccountKey=" + azureKey + ";SharedAccessKey=" + azureShared,
		"https://a.blob.core.windows.net/?sv=2022-11-02&sp=r&sig=" + azureSig,
		`{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\n` + gcpPrivateBody + `"}`,
		ghPAT + " " + ghOAuth + " " + ghUser + " " + ghServer + " " + ghRefresh + " " + ghFineGrained + " " + glPAT,
		slackBot + " https://hooks.slack.com/services/" + slackHookPath,
		"//r/:_authToken=" + npmToken + "\n_authToken=" + npmUUID, pypiToken, "Bearer " + jwtToken,
		"DB_PASSWORD=" + genericSecret + "\nSECRET_KEY = '" + genericSource + "'",
		ghPAT + "token=" + ghPAT, "sv=2020-01-01&x=" + ghPAT + "&sig=" + azureSig,
	}
}

// FuzzScan checks the line scanner on arbitrary text: no panic, lines in
// range, one-line printable displays, and no hit shows its secret.
func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	s := defaultScanner()
	f.Fuzz(func(t *testing.T, text []byte, cfg bool) {
		lines := bytes.Count(text, []byte{'\n'}) + 1
		hits := s.scan(text, cfg)
		if len(hits) > maxHitsPerFile {
			t.Fatalf("%d hits", len(hits))
		}
		for _, h := range hits {
			if h.line < 1 || h.line > lines {
				t.Fatalf("line %d of %d", h.line, lines)
			}
			if strings.ContainsAny(h.display, "\n\r") || !utf8.ValidString(h.display) {
				t.Fatalf("display %q", h.display)
			}
			if h.rule.group >= 0 && len(h.secret) >= 8 && strings.Contains(h.display, h.secret) {
				t.Fatalf("display %q shows the secret %q", h.display, h.secret)
			}
		}
		for _, sec := range ScanConfig(&inventory.ImageConfig{Env: []string{string(text)}, Labels: map[string]string{"l": string(text)}}) {
			if strings.ContainsAny(sec.Match, "\n\r") {
				t.Fatalf("config match %q", sec.Match)
			}
		}
	})
}

// FuzzKeywords checks the multi-lane keyword pass against a plain walk.
func FuzzKeywords(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s + "\n"))
	}
	kw := defaultScanner().kw
	f.Fuzz(func(t *testing.T, text []byte) {
		// Repeat short inputs past the size where find splits into lanes.
		for len(text) > 0 && len(text) < 4200 {
			text = append(text, text...)
		}
		got := kw.find(text, nil)
		want := kw.findFrom(text, 0, 0, nil)
		// Lanes restart at line starts, which a plain walk crosses in the
		// root state or in a state no keyword continues through '\n'.
		if len(got) != len(want) {
			t.Fatalf("%d hits, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("hit %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}

// FuzzRedact checks Redact never returns its input, keeps valid UTF-8
// valid and never grows past 4 + 32 characters of mask beyond a prefix.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"", "a", "AKIAIOSFODNN7EXAMPLE", ghPAT, "héllo wörld ünïcode", pypiToken} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if len(s) >= 2 && strings.Contains(r, s) {
			t.Fatalf("Redact(%q) = %q", s, r)
		}
		if utf8.ValidString(s) && !utf8.ValidString(r) {
			t.Fatalf("Redact(%q) = %q: invalid UTF-8", s, r)
		}
		if len(r) > len(s) {
			t.Fatalf("Redact(%q) = %q: longer", s, r)
		}
	})
}
