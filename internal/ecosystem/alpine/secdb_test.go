package alpine

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/vuln"
	"github.com/vigil-scan/vigil/internal/vuln/vulntest"
)

// countFixEntries counts ids in secfixes list items line by line, without
// a YAML parser: every distinct CVE on an item, or one for an item naming
// only an advisory id such as XSA-207.
func countFixEntries(t *testing.T, path string) int {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	cve := regexp.MustCompile(`CVE[- ][0-9]{4}-[0-9]{4,}`)
	other := regexp.MustCompile(`(^|\s)[A-Z][A-Z0-9]*-[0-9]`)
	n := 0
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		item, ok := strings.CutPrefix(strings.TrimLeft(line, " "), "- ")
		if !ok || len(line)-len(strings.TrimLeft(line, " ")) < 6 {
			continue
		}
		seen := map[string]bool{}
		for _, m := range cve.FindAllString(item, -1) {
			seen[strings.Replace(m, "CVE ", "CVE-", 1)] = true
		}
		switch {
		case len(seen) > 0:
			n += len(seen)
		case other.MatchString(item):
			n++
		}
	}
	return n
}

func parseFile(t *testing.T, path, format string) (*vulntest.Sink, int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sink := &vulntest.Sink{}
	n, err := ParseSecDB(context.Background(), fh, format, sink)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if n != len(sink.Affects) {
		t.Fatalf("returned %d records, sink got %d", n, len(sink.Affects))
	}
	return sink, n
}

func TestParseSecDBCorpusYAML(t *testing.T) {
	files, err := filepath.Glob(corpus.Path(t, "feeds", "alpine-secdb", "v3.*", "*.yaml"))
	if err != nil || len(files) != 18 {
		t.Fatalf("want 18 secdb files, got %d (%v)", len(files), err)
	}
	for _, path := range files {
		branch := filepath.Base(filepath.Dir(path))
		t.Run(branch+"/"+filepath.Base(path), func(t *testing.T) {
			sink, n := parseFile(t, path, "yaml")
			if want := countFixEntries(t, path); n != want {
				t.Errorf("records = %d, independent count %d", n, want)
			}
			for _, a := range sink.Affects {
				if a.Ecosystem != "Alpine:"+branch || a.Source != FeedSource || a.Package == "" || a.VulnID == "" {
					t.Fatalf("bad record %+v", a)
				}
				if a.FixState == vuln.FixStateFixed && (len(a.Ranges) != 1 || a.Ranges[0].Events[1].Fixed == "") {
					t.Fatalf("fixed record without fixed event %+v", a)
				}
			}
		})
	}
}

func TestParseSecDBKnownEntries(t *testing.T) {
	sink, _ := parseFile(t, corpus.Path(t, "feeds", "alpine-secdb", "v3.10", "main.yaml"), "yaml")
	got := sink.Find("", "openssl", "CVE-2019-1547")
	if len(got) != 1 {
		t.Fatalf("openssl CVE-2019-1547: %d records", len(got))
	}
	want := vuln.Range{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: "0"}, {Fixed: "1.1.1d-r0"}}}
	a := got[0]
	if a.Ecosystem != "Alpine:v3.10" || a.FixState != vuln.FixStateFixed || len(a.Ranges) != 1 ||
		a.Ranges[0].Type != want.Type || a.Ranges[0].Events[0] != want.Events[0] || a.Ranges[0].Events[1] != want.Events[1] {
		t.Errorf("openssl record = %+v", a)
	}
	// The alpine:3.10 image has musl 1.1.22-r3, exactly the fixed version.
	if got := sink.Find("", "musl", "CVE-2019-14697"); len(got) != 1 || got[0].Ranges[0].Events[1].Fixed != "1.1.22-r3" {
		t.Errorf("musl CVE-2019-14697 = %+v", got)
	}

	// v3.8 main whitelists Oracle Berkeley DB issues under fixed version "0".
	sink, _ = parseFile(t, corpus.Path(t, "feeds", "alpine-secdb", "v3.8", "main.yaml"), "yaml")
	db := sink.Find("", "db", "CVE-2016-0682")
	if len(db) != 1 || db[0].FixState != vuln.FixStateNotAffected || len(db[0].Ranges) != 0 {
		t.Errorf("db CVE-2016-0682 = %+v", db)
	}
	// "CVE-2017-8904 XSA-214": the CVE is the id, the XSA related.
	var found bool
	for _, v := range sink.Vulns {
		if v.ID == "CVE-2017-8904" {
			found = len(v.Related) == 1 && v.Related[0] == "XSA-214"
		}
	}
	if !found {
		t.Error("CVE-2017-8904 without related XSA-214")
	}
}

func TestParseSecDBJSONMatchesYAML(t *testing.T) {
	sink, n := parseFile(t, corpus.Path(t, "feeds", "samples", "alpine-secdb-v3.10-community.trimmed.json"), "json")
	if n == 0 {
		t.Fatal("no records")
	}
	got := sink.Find("", "botan", "CVE-2018-20187")
	if len(got) != 1 || got[0].Ecosystem != "Alpine:v3.10" || got[0].Ranges[0].Events[1].Fixed != "2.9.0-r0" {
		t.Errorf("botan CVE-2018-20187 = %+v", got)
	}
	// The same document as YAML gives the same records.
	yamlDoc := `distroversion: v3.10
packages:
  - pkg:
      name: botan
      secfixes:
        2.9.0-r0:
          - CVE-2018-20187
`
	ysink := &vulntest.Sink{}
	if _, err := ParseSecDB(context.Background(), strings.NewReader(yamlDoc), "yaml", ysink); err != nil {
		t.Fatal(err)
	}
	if len(ysink.Affects) != 1 || ysink.Affects[0].Ecosystem != got[0].Ecosystem || ysink.Affects[0].Ranges[0].Events[1] != got[0].Ranges[0].Events[1] {
		t.Errorf("yaml %+v != json %+v", ysink.Affects, got)
	}
}

func TestParseSecDBEdgeCases(t *testing.T) {
	tests := []struct {
		name, format, doc string
		want              int
		wantErr           bool
	}{
		{"json distroversion after packages", "json", `{"packages":[{"pkg":{"name":"a","secfixes":{"1-r0":["CVE-2020-0001"]}}}],"distroversion":"v3.12"}`, 1, false},
		{"unquoted zero key", "yaml", "distroversion: v3.9\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        0:\n          - CVE-2020-0002\n", 1, false},
		// A last entry without fixes is what a cut file leaves.
		{"empty secfixes last (truncated)", "yaml", "distroversion: v3.9\npackages:\n  - pkg:\n      name: a\n      secfixes:\n", 0, true},
		{"empty secfixes before the last", "yaml", "distroversion: v3.9\npackages:\n  - pkg:\n      name: a\n      secfixes:\n  - pkg:\n      name: b\n      secfixes:\n        1-r0:\n          - CVE-2020-0002\n", 1, false},
		{"no distroversion json", "json", `{"packages":[]}`, 0, true},
		{"bad distroversion", "yaml", "distroversion: 3.10\npackages: []\n", 0, true},
		{"not yaml", "yaml", "{{{", 0, true},
		{"empty", "yaml", "", 0, true},
		{"not json", "json", "[1,2]", 0, true},
		{"bad format", "xml", "<a/>", 0, true},
		{"padded version key", "json", `{"distroversion":"v3.12","packages":[{"pkg":{"name":"a","secfixes":{" 1-r0 ":["CVE-2020-0001"]}}}]}`, 1, false},
		{"packages not an array", "json", `{"distroversion":"v3.12","packages":{"pkg":{}}}`, 0, true},
		{"secfixes not a map", "yaml", "distroversion: v3.9\npackages:\n  - pkg:\n      name: a\n      secfixes: [CVE-2020-0001]\n", 0, true},
		{"truncated json", "json", `{"distroversion":"v3.12","packages":[{"pkg":`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &vulntest.Sink{}
			n, err := ParseSecDB(context.Background(), strings.NewReader(tt.doc), tt.format, sink)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if n != tt.want {
				t.Errorf("records = %d, want %d", n, tt.want)
			}
		})
	}
}

// A version key with stray spaces is trimmed, not dropped.
func TestParseSecDBPaddedVersionKey(t *testing.T) {
	sink := &vulntest.Sink{}
	doc := `{"distroversion":"v3.12","packages":[{"pkg":{"name":"a","secfixes":{" 1.2-r0 ":["CVE-2020-0001"]}}}]}`
	if _, err := ParseSecDB(context.Background(), strings.NewReader(doc), "json", sink); err != nil {
		t.Fatal(err)
	}
	got := sink.Find("Alpine:v3.12", "a", "CVE-2020-0001")
	if len(got) != 1 || got[0].Ranges[0].Events[1].Fixed != "1.2-r0" {
		t.Fatalf("got %+v, want one record fixed in 1.2-r0", got)
	}
}

func TestParseSecDBSinkError(t *testing.T) {
	sink := &vulntest.Sink{FailAt: 3}
	path := corpus.Path(t, "feeds", "alpine-secdb", "v3.10", "main.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseSecDB(context.Background(), bytes.NewReader(b), "yaml", sink)
	if err == nil || n != 2 {
		t.Errorf("n = %d, err = %v; want 2 and the sink's error", n, err)
	}
}

func FuzzParseSecDB(f *testing.F) {
	f.Add([]byte("distroversion: v3.10\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1-r0:\n          - CVE-2019-0001 XSA-1\n"), false)
	f.Add([]byte(`{"distroversion":"v3.10","packages":[{"pkg":{"name":"a","secfixes":{"0":["CVE-2019-0001"]}}}]}`), true)
	f.Fuzz(func(t *testing.T, doc []byte, asJSON bool) {
		format := "yaml"
		if asJSON {
			format = "json"
		}
		sink := &vulntest.Sink{}
		n, _ := ParseSecDB(context.Background(), bytes.NewReader(doc), format, sink)
		if n != len(sink.Affects) {
			t.Fatalf("returned %d, emitted %d", n, len(sink.Affects))
		}
	})
}
