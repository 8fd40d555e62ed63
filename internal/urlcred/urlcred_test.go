package urlcred

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:s3cret@mirror.example.com/feeds":                             "https://REDACTED@mirror.example.com/feeds",
		"https://tok3n@mirror.example.com/feeds":                                   "https://REDACTED@mirror.example.com/feeds",
		"https://h.example/all.zip?token=abc&x=1":                                  "https://h.example/all.zip?token=REDACTED&x=1",
		"https://b.blob.core.windows.net/c/f?sv=2022&sig=abc%2Bdef&se=2030":        "https://b.blob.core.windows.net/c/f?sv=2022&sig=REDACTED&se=2030",
		"https://s3.example/f?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&a=b":      "https://s3.example/f?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&a=b",
		"https://h.example/f?API_KEY=k&access_token=t&client_secret=s&page=2":      "https://h.example/f?API_KEY=REDACTED&access_token=REDACTED&client_secret=REDACTED&page=2",
		"https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip": "https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip",
		"/srv/feeds/debian/DSA-list":                                               "/srv/feeds/debian/DSA-list",
		"file:///srv/feeds":                                                        "file:///srv/feeds",
		"https://u:p@h.example:8443/x?token=":                                      "https://REDACTED@h.example:8443/x?token=",
		"https://u:p@[::1/x":                                                       "https://REDACTED@[::1/x",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactTextAndError(t *testing.T) {
	msg := `Get "https://bob:hunter2@mirror.example/osv/Go/all.zip?sig=xyz": dial tcp: connection refused; then https://a.example/?token=t2.`
	got := RedactText(msg)
	for _, secret := range []string{"bob", "hunter2", "xyz", "t2"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q left in %q", secret, got)
		}
	}
	if !strings.Contains(got, "mirror.example/osv/Go/all.zip") || !strings.Contains(got, "connection refused") {
		t.Errorf("lost context: %q", got)
	}
	base := fmt.Errorf("fetching https://u:pw@h.example/x: %w", fs.ErrNotExist)
	err := Error(base)
	if strings.Contains(err.Error(), "pw") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Error: %v", err)
	}
	if plain := errors.New("no url"); Error(plain) != plain {
		t.Error("an error without URLs is wrapped")
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x?token=1", "http://[::1]:80/?sig=%zz", "a://@", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		// Whatever came in, what goes out carries no user information but
		// the mask, and no credential parameter value.
		if u, err := url.Parse(out); err == nil && u.Scheme != "" {
			if u.User != nil && u.User.String() != Mask {
				t.Fatalf("userinfo kept: %q -> %q", s, out)
			}
			for _, p := range strings.Split(u.RawQuery, "&") {
				if name, value, ok := strings.Cut(p, "="); ok && value != "" && value != Mask && isCredentialParam(name) {
					t.Fatalf("parameter %s kept: %q -> %q", name, s, out)
				}
			}
		}
		_ = RedactText(s)
	})
}
