package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// describe renders everything a parsed policy holds, for comparing two
// parses.
func describe(p *Policy, vex []vexFile) string {
	var b strings.Builder
	base := func(r *ruleBase) {
		fmt.Fprintf(&b, " kind=%s at=%s reason=%q expires=%v until=%v image=%v\n", r.kind, r.ref(), r.reason, r.expires, r.until, r.image)
	}
	for i := range p.vulns {
		v := &p.vulns[i]
		fmt.Fprintf(&b, "vuln %q id=%s pkg=%v purl=%v path=%v", v.what(), v.id, v.pkg, v.purl, v.path)
		base(&v.ruleBase)
	}
	for i := range p.checks {
		fmt.Fprintf(&b, "check %s", p.checks[i].code)
		base(&p.checks[i].ruleBase)
	}
	for i := range p.secrets {
		fmt.Fprintf(&b, "secret %q", p.secrets[i].what())
		base(&p.secrets[i].ruleBase)
	}
	for _, v := range vex {
		fmt.Fprintf(&b, "vex %s:%d\n", v.path, v.line)
	}
	return b.String()
}

// samePieces checks that parsing data in small pieces gives what parsing it
// whole gives: the same rules at the same lines, or the same error.
func samePieces(t *testing.T, data []byte, piece int) {
	t.Helper()
	wp, wv, werr := parseFileLists("p.yaml", data, nil)
	pp, pv, perr := parseFilePieces("p.yaml", data, piece)
	if (werr == nil) != (perr == nil) || (werr != nil && werr.Error() != perr.Error()) {
		t.Fatalf("whole: %v\npieces: %v", werr, perr)
	}
	if werr != nil {
		return
	}
	if w, p := describe(wp, wv), describe(pp, pv); w != p {
		t.Fatalf("whole:\n%s\npieces:\n%s", w, p)
	}
}

func TestPolicyPiecesLayouts(t *testing.T) {
	item := func(i int) string {
		return fmt.Sprintf("  - id: CVE-2024-%d\n    package: 'pkg-%d*'\n    reason: |\n      multi-line\n      reason %d\n\n    expires: 2030-01-01\n", i, i, i)
	}
	var list strings.Builder
	for i := range 40 {
		list.WriteString(item(i))
		if i%7 == 0 {
			list.WriteString("# a comment at column 0\n  # an indented comment\n\n")
		}
	}
	flat := strings.ReplaceAll(list.String(), "\n  ", "\n")
	flat = strings.TrimPrefix(flat, "  ")
	tests := map[string]string{
		"indented items":      "version: 1\nignore:\n" + list.String() + "checks:\n  - code: CIS-DI-0001\n    reason: r\nvex:\n  - a.json\n  - b.json\n",
		"items at column 0":   "version: 1\nignore: # the list\n" + flat + "secrets:\n- rule: aws\n  reason: r\n",
		"anchor in a piece":   "ignore:\n  - id: CVE-1\n    reason: &r shared\n  - id: CVE-2\n    reason: *r\n" + list.String(),
		"alias across pieces": "ignore:\n  - id: CVE-1\n    reason: &r shared\n" + list.String() + "  - id: CVE-2\n    reason: *r\n",
		"error in a piece":    "ignore:\n" + list.String() + "  - id: CVE-*\n    reason: r\n",
		"syntax error late":   "ignore:\n" + list.String() + "checks: [\n",
		"duplicate key":       "ignore:\n" + list.String() + "ignore:\n" + list.String(),
		"flow list":           "ignore: [" + strings.Repeat("{id: CVE-1, reason: r},", 50) + "]\n",
		"mapping value":       "ignore:\n  id: CVE-1\n",
		"two documents":       "ignore:\n" + list.String() + "---\nversion: 1\n",
		"quoted across items": "ignore:\n  - id: CVE-1\n    reason: \"a\n  - b\"\n" + list.String(),
		"tab":                 "ignore:\n" + list.String() + "\t- id: CVE-1\n",
		"less indented item":  "ignore:\n" + list.String() + " - id: CVE-1\n   reason: r\n",
		"unknown key after":   "ignore:\n" + list.String() + "ignores: []\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, piece := range []int{1, 100, 1000, 1 << 20} {
				samePieces(t, []byte(doc), piece)
			}
		})
	}
	// The fixture, and the fixture repeated (a real large file's layout).
	data, err := os.ReadFile(filepath.Join("testdata", "vigil.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	samePieces(t, data, 10)
}

// A file near the 8 MiB cap is parsed piece by piece (bench/inputs-rss.sh
// measures the memory this saves: 278 -> 144 MB peak RSS).
func TestPolicyPiecesLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nignore:\n")
	for i := 0; b.Len() < maxPolicySize-200; i++ {
		fmt.Fprintf(&b, "  - id: CVE-2024-%06d\n    package: \"pkg-%d\"\n    reason: \"exception number %d\"\n", i, i, i)
	}
	data := []byte(b.String())
	_, lists, ok := splitLists(data, []string{"ignore"}, chunkBytes)
	if !ok || len(lists["ignore"]) < maxPolicySize/chunkBytes-1 {
		t.Fatalf("split: %v, %d pieces", ok, len(lists["ignore"]))
	}
	p, _, err := parseFile("p.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	last := p.vulns[len(p.vulns)-1]
	if len(p.vulns) < 80000 || last.ref() != fmt.Sprintf("p.yaml:%d", strings.Count(b.String(), "\n")-2) {
		t.Errorf("%d rules, the last at %s", len(p.vulns), last.ref())
	}
}

func FuzzPolicyPieces(f *testing.F) {
	addSeed(f, "vigil.yaml")
	f.Add([]byte("ignore:\n  - id: CVE-1\n    reason: &r x\n  - id: CVE-2\n    reason: *r\nchecks:\n- code: A\n  reason: r\n"))
	f.Add([]byte("ignore:\n- id: CVE-1\n  reason: \"a\n- b\"\n- id: CVE-2\n  reason: |\n    x\n- package: p\n  reason: r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, piece := range []int{1, 40} {
			samePieces(t, data, piece)
		}
	})
}
