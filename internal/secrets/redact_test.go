package secrets

import (
	"strings"
	"testing"
)

func TestLooksLikeIdentifier(t *testing.T) {
	for _, s := range []string{"StreamDescription.Shards[-1].ShardId", "storage_v1_client", "V1ServiceAccountTokenProjection",
		"passwd.hashed-password.root", "AWS_SECRET_ACCESS_KEY", "Jobs[-1].JobId", "InvalidToken:%s:%s", "passwd.shell.root", "sysctl.extra"} {
		if !looksLikeIdentifier([]byte(s)) {
			t.Errorf("%q: not an identifier", s)
		}
	}
	// Random secrets must seldom look like names. Lower case and digits
	// only is the hardest case: runs of letters are long, so short strings
	// are misread up to 6% of the time (a generic-rule miss, accepted).
	for _, alphabet := range []string{alnum, b64, "0123456789abcdef", "abcdefghijklmnopqrstuvwxyz0123456789"} {
		limit := 20
		if alphabet[0] == 'a' {
			limit = 60
		}
		for _, n := range []int{16, 24, 40, 64} {
			named := 0
			for seed := range uint64(1000) {
				if looksLikeIdentifier([]byte(fake(seed+1000, n, alphabet))) {
					named++
				}
			}
			if named > limit {
				t.Errorf("%d of 1000 random strings of %d from %q look like names", named, n, alphabet[:10])
			}
		}
	}
}

func TestEntropy(t *testing.T) {
	if e := entropy([]byte(strings.Repeat("a", 10))); e != 0 {
		t.Errorf("entropy(aaaa) = %v", e)
	}
	if e := entropy([]byte("ab")); e != 1 {
		t.Errorf("entropy(ab) = %v", e)
	}
	if e := entropy([]byte(fake(1, 64, b64))); e < 5 {
		t.Errorf("entropy(random base64) = %v", e)
	}
}
