package version

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
)

// vectorFiles maps each upstream vector file to the ecosystem name that
// selects the comparator under test.
var vectorFiles = map[string]string{
	"apk.txt":      "Alpine:v3.20",
	"deb.txt":      "Debian:12",
	"rpm.txt":      "AlmaLinux:9",
	"pep440.txt":   "PyPI",
	"maven.txt":    "Maven",
	"npm.txt":      "npm",
	"go.txt":       "Go",
	"rubygems.txt": "RubyGems",
}

type vectorCase struct {
	line int
	a, b string
	want int
}

func readVectors(t *testing.T, path string) []vectorCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []vectorCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want 'A op B', got %q", path, n, line)
		}
		want := map[string]int{"<": -1, "=": 0, ">": 1}[fields[1]]
		cases = append(cases, vectorCase{n, fields[0], fields[2], want})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestUpstreamVectors checks every comparator against its upstream
// project's own test vectors, in both directions.
func TestUpstreamVectors(t *testing.T) {
	for file, eco := range vectorFiles {
		t.Run(file, func(t *testing.T) {
			cmp, err := For(eco)
			if err != nil {
				t.Fatal(err)
			}
			cases := readVectors(t, corpus.Path(t, "versions", file))
			if len(cases) == 0 {
				t.Fatal("no cases")
			}
			pass := 0
			for _, c := range cases {
				got, err := cmp.Compare(c.a, c.b)
				rev, err2 := cmp.Compare(c.b, c.a)
				switch {
				case err != nil || err2 != nil:
					t.Errorf("line %d: %s vs %s: %v %v", c.line, c.a, c.b, err, err2)
				case got != c.want || rev != -c.want:
					t.Errorf("line %d: compare(%s, %s) = %d, reverse %d; want %d", c.line, c.a, c.b, got, rev, c.want)
				default:
					pass++
				}
			}
			t.Logf("%s: %d/%d cases pass (both directions)", file, pass, len(cases))
		})
	}
}
