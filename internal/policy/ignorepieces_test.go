package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameIgnorePieces checks that parsing a Grype config or a
// .trivyignore.yaml in small pieces gives what parsing it whole gives: the
// same rules at the same lines, or the same error.
func sameIgnorePieces(t *testing.T, data []byte, piece int) {
	t.Helper()
	for _, f := range []struct {
		name   string
		whole  func(string, []byte, map[string][]yamlChunk) (*Policy, error)
		pieces func(string, []byte, int) (*Policy, error)
	}{
		{"grype", parseGrypeLists, parseGrypePieces},
		{"trivy", parseTrivyYAMLLists, parseTrivyYAMLPieces},
	} {
		wp, werr := f.whole("p.yaml", data, nil)
		pp, perr := f.pieces("p.yaml", data, piece)
		if (werr == nil) != (perr == nil) || (werr != nil && werr.Error() != perr.Error()) {
			t.Fatalf("%s: whole: %v\npieces: %v", f.name, werr, perr)
		}
		if werr != nil {
			continue
		}
		if w, p := describe(wp, nil), describe(pp, nil); w != p {
			t.Fatalf("%s: whole:\n%s\npieces:\n%s", f.name, w, p)
		}
	}
}

func TestIgnoreFilesPieces(t *testing.T) {
	var grype, trivy strings.Builder
	for i := range 40 {
		fmt.Fprintf(&grype, "  - vulnerability: CVE-2024-%d\n    reason: |\n      multi-line\n      reason %d\n\n    package:\n      name: pkg-%d\n      type: deb\n", i, i, i)
		fmt.Fprintf(&trivy, "  - id: CVE-2024-%d\n    purls:\n      - pkg:deb/debian/pkg-%d\n    statement: not reachable (%d)\n    expired_at: 2030-01-01\n", i, i, i)
		if i%7 == 0 {
			grype.WriteString("# a comment at column 0\n  # an indented comment\n\n")
		}
	}
	g, tr := grype.String(), trivy.String()
	tests := map[string]string{
		"grype":                   "check-for-app-update: false\nignore:\n" + g + "output: table\n",
		"grype items at column 0": "ignore: # rules\n" + strings.ReplaceAll(strings.TrimPrefix(g, "  "), "\n  ", "\n"),
		"grype error in a piece":  "ignore:\n" + g + "  - vulnerability: CVE-1\n    match-type: cpe-match\n",
		"grype duplicate key":     "ignore:\n" + g + "ignore:\n" + g,
		"grype alias":             "ignore:\n  - vulnerability: CVE-1\n    reason: &r shared\n" + g + "  - vulnerability: CVE-2\n    reason: *r\n",
		"trivy":                   "vulnerabilities:\n" + tr + "secrets:\n  - id: aws-access-key-id\n    paths: [etc/x]\nmisconfigurations:\n" + tr + "licenses:\n  - id: GPL-3.0\n",
		"trivy error in a piece":  "vulnerabilities:\n" + tr + "  - id: CVE-1\n    expired_at: soon\n",
		"trivy unknown key after": "vulnerabilities:\n" + tr + "vulns: []\n",
		"trivy flow list":         "vulnerabilities: [" + strings.Repeat("{id: CVE-1},", 50) + "]\n",
		"two documents":           "ignore:\n" + g + "---\nvulnerabilities:\n" + tr,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, piece := range []int{1, 100, 1000, 1 << 20} {
				sameIgnorePieces(t, []byte(doc), piece)
			}
		})
	}
	for _, name := range []string{"grype.yaml", "trivyignore.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		sameIgnorePieces(t, data, 10)
	}
}

// A Grype config near the 8 MiB cap is parsed piece by piece.
func TestGrypePiecesLargeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("ignore:\n")
	for i := 0; b.Len() < maxPolicySize-200; i++ {
		fmt.Fprintf(&b, "  - vulnerability: CVE-2024-%06d\n    package:\n      name: pkg-%d\n", i, i)
	}
	data := []byte(b.String())
	if _, lists, ok := splitLists(data, []string{"ignore"}, chunkBytes); !ok || len(lists["ignore"]) < maxPolicySize/chunkBytes-1 {
		t.Fatalf("split: %v, %d pieces", ok, len(lists["ignore"]))
	}
	p, err := parseGrypeConfig("g.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	last := p.vulns[len(p.vulns)-1]
	if len(p.vulns) < 100000 || last.ref() != fmt.Sprintf("g.yaml:%d", strings.Count(b.String(), "\n")-2) {
		t.Errorf("%d rules, the last at %s", len(p.vulns), last.ref())
	}
}

// The line form is read as a stream, under the same cap and with the same
// error as the whole read.
func TestTrivyIgnoreStreamCap(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, ".trivyignore")
	if err := os.WriteFile(big, []byte(strings.Repeat("CVE-2024-0001\n", maxPolicySize/14+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadTrivyIgnore(big)
	if want := big + ": larger than 8 MiB"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	// A stream that is not a regular file is cut at the cap as it is read.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write([]byte(strings.Repeat("CVE-2024-0001\n", 1000)))
		w.Close()
	}()
	_, err = readTrivyIgnore("pipe", &limitedFile{f: r, path: "pipe", max: 1000, left: 1000})
	r.Close()
	if err == nil || err.Error() != "pipe: larger than 0 MiB" {
		t.Fatalf("error %v", err)
	}
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, []byte("# why\nCVE-2024-0001 exp:2030-01-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadTrivyIgnore(ok)
	if err != nil || len(p.vulns) != 1 || p.vulns[0].reason != "why" {
		t.Fatalf("%v %+v", err, p)
	}
}

func FuzzIgnoreFilePieces(f *testing.F) {
	addSeed(f, "grype.yaml")
	addSeed(f, "trivyignore.yaml")
	f.Add([]byte("ignore:\n  - vulnerability: CVE-1\n    reason: &r x\n  - package: {name: p}\n    reason: *r\nvulnerabilities:\n- id: A\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, piece := range []int{1, 40} {
			sameIgnorePieces(t, data, piece)
		}
	})
}
