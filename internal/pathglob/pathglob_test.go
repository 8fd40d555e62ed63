package pathglob

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"libssl*", "libssl1.1", true},
		{"libssl*", "libcrypto", false},
		{"*", "golang.org/x/net", false},
		{"**", "golang.org/x/net", true},
		{"golang.org/x/*", "golang.org/x/net", true},
		{"opt/testdata/**", "opt/testdata/a/b.key", true},
		{"opt/testdata/**", "opt/testdata", false},
		{"opt/**/key.pem", "opt/key.pem", true},
		{"opt/**/key.pem", "opt/a/b/key.pem", true},
		{"lib?.so", "liba.so", true},
		{"lib?.so", "lib/.so", false},
		{"[a-c]x", "bx", true},
		{"[!a-c]x", "bx", false},
		{"[]]", "]", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"ü*", "über", true},
		{"[ü]", "ü", true},
		{"a.b", "axb", false},
		{"registry.example.com/app/*", "registry.example.com/app/web:1.2", true},
	}
	for _, tc := range tests {
		g, err := Compile(tc.pattern)
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		if got := g.Match(tc.s); got != tc.want {
			t.Errorf("%q.match(%q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
	for _, bad := range []string{"", "[abc", `a\`, "[z-a]", "[]", "[!]", "[a/b]"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
