package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"syntax", "ignore:\n  - id: [\n", "p.yaml:2: did not find expected node content"},
		{"tab indent", "ignore:\n\t- id: x\n", "p.yaml:2: found character that cannot start any token"},
		{"top level list", "- id: CVE-1\n", "p.yaml:1: the policy file must be a mapping"},
		{"unknown top key", "version: 1\nignores: []\n", `p.yaml:2: unknown key "ignores" in the policy file`},
		{"bad version", "version: 2\n", `p.yaml:1: unsupported version "2"`},
		{"version list", "version: [1]\n", "p.yaml:1: version must be a single value"},
		{"ignore not list", "ignore: CVE-1\n", `p.yaml:1: ignore must be a list, got "CVE-1"`},
		{"entry not mapping", "ignore:\n  - CVE-1\n", `p.yaml:2: an ignore entry must be a mapping`},
		{"unknown entry key", "ignore:\n  - id: CVE-1\n    reason: r\n    until: 2024-01-01\n", `p.yaml:4: unknown key "until" in an ignore entry`},
		{"missing reason", "ignore:\n  - id: CVE-1\n", "p.yaml:2: CVE-1: reason is required"},
		{"blank reason", "ignore:\n  - id: CVE-1\n    reason: '  '\n", "p.yaml:2: CVE-1: reason is required"},
		{"no id nor package", "ignore:\n  - reason: r\n", "p.yaml:2: an ignore entry needs an id, a package or both"},
		{"id glob", "ignore:\n  - id: CVE-*\n    reason: r\n", "p.yaml:2: id must be one vulnerability id"},
		{"bad date", "ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2024-13-01\n", `p.yaml:4: expires: invalid date "2024-13-01"`},
		{"date words", "ignore:\n  - id: CVE-1\n    reason: r\n    expires: next week\n", `p.yaml:4: expires: invalid date "next week"`},
		{"bad glob", "ignore:\n  - id: CVE-1\n    package: 'lib[ssl'\n    reason: r\n", `p.yaml:3: package: pattern "lib[ssl": unclosed '['`},
		{"bad image glob", "ignore:\n  - id: CVE-1\n    image: 'a\\'\n    reason: r\n", "p.yaml:3: image: pattern"},
		{"duplicate key", "ignore:\n  - id: CVE-1\n    id: CVE-2\n    reason: r\n", `p.yaml:3: duplicate key "id" in an ignore entry`},
		{"duplicate top key", "ignore: []\nignore: []\n", `p.yaml:2: duplicate key "ignore"`},
		{"merge key", "base: &b {reason: r}\nignore:\n  - <<: *b\n    id: CVE-1\n", `p.yaml:1: unknown key "base"`},
		{"merge key in entry", "ignore:\n  - <<: {reason: r}\n    id: CVE-1\n", "p.yaml:2: an ignore entry: merge keys (<<) are not supported"},
		{"alias to mapping", "ignore:\n  - &e {id: CVE-1, reason: r}\n  - *e\n", "p.yaml:3: an ignore entry must be a mapping, got an alias"},
		{"check without code", "checks:\n  - reason: r\n", "p.yaml:2: a checks entry needs a code"},
		{"check without reason", "checks:\n  - code: CIS-DI-0001\n", "p.yaml:2: CIS-DI-0001: reason is required"},
		{"secret without rule or path", "secrets:\n  - reason: r\n", "p.yaml:2: a secrets entry needs a rule, a path or both"},
		{"secret unknown key", "secrets:\n  - rule: x\n    file: y\n    reason: r\n", `p.yaml:3: unknown key "file" in a secrets entry`},
		{"two documents", "version: 1\n---\nversion: 1\n", "p.yaml:2: more than one YAML document"},
		{"empty vex", "vex:\n  - ''\n", "p.yaml:2: empty vex entry"},
		{"key not scalar", "? [a]\n: 1\n", "p.yaml:1: the policy file: keys must be plain strings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseFile("p.yaml", []byte(tc.doc))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v\nwant prefix %q", err, tc.want)
			}
		})
	}
}

func TestParseFileAccepts(t *testing.T) {
	for _, doc := range []string{
		"",
		"# only a comment\n",
		"version: 1\n",
		"version: '1'\nignore: []\nchecks:\nsecrets: []\n",
		"ignore:\n  - {id: CVE-1, reason: &r shared}\n  - {id: CVE-2, reason: *r}\n",
		"ignore:\n  - id: CVE-1\n    reason: r\n    expires: 2030-01-01T10:00:00+02:00\n",
		"ignore:\n  - id: CVE-1\n    reason: r\n    expires: '2030-01-01'\n",
		"secrets:\n  - path: /opt/testdata/**\n    reason: fixtures\n",
	} {
		if _, _, err := parseFile("p.yaml", []byte(doc)); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
}

func TestLoadFileWithVEX(t *testing.T) {
	dir := t.TempDir()
	vexData, err := os.ReadFile(filepath.Join("testdata", "app.openvex.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "vex"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vex", "app.json"), vexData, 0o644); err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(dir, ".vigil.yaml")
	if err := os.WriteFile(pf, []byte("version: 1\nvex:\n  - vex/app.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sources) != 2 || len(p.vex) != 5 {
		t.Errorf("sources %q, %d statements", p.Sources, len(p.vex))
	}
	if err := os.WriteFile(pf, []byte("version: 1\nvex:\n  - vex/missing.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(pf); err == nil || !strings.Contains(err.Error(), ".vigil.yaml:3: open ") {
		t.Errorf("missing VEX file: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadFile(filepath.Join(dir, "none.yaml")); err == nil {
		t.Error("missing file accepted")
	}
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxPolicySize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := LoadAllowlist(big); err == nil || !strings.Contains(err.Error(), "larger than 8 MiB") {
		t.Errorf("oversized file: %v", err)
	}
}

func TestAllowlistErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"general: [a]\n", "a.yaml:1: general must be a mapping"},
		{"general:\n  vulnerabilities: CVE-1\n", `a.yaml:2: vulnerabilities must be a list, got "CVE-1"`},
		{"general:\n  vulnerabilities:\n    - {id: CVE-1}\n", "a.yaml:3: an entry of vulnerabilities must be a single value"},
		{"general:\n  vulnerabilities:\n    - CVE-1 exp:tomorrow\n", `a.yaml:3: vulnerabilities: invalid expiry "exp:tomorrow"`},
		{"general:\n  vulnerabilities:\n    - CVE-1 CVE-2\n", `a.yaml:3: vulnerabilities: unexpected "CVE-2" after CVE-1`},
		{"general:\n  vulnerabilities: [\n", "a.yaml:2: did not find expected node content"},
	} {
		if _, err := parseAllowlist("a.yaml", []byte(tc.doc)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want prefix %q", tc.doc, err, tc.want)
		}
	}
}
