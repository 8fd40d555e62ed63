package debian

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/vuln"
	"github.com/vigil-scan/vigil/internal/vuln/vulntest"
)

func TestRelease(t *testing.T) {
	for codename, want := range map[string]string{
		"bookworm": "12", "bullseye": "11", "buster": "10", "stretch": "9", "jessie": "8",
		"wheezy": "7", "squeeze": "6", "lenny": "5", "etch": "4", "sarge": "3.1", "woody": "3.0", "Trixie": "13",
	} {
		if got, ok := Release(codename); !ok || got != want {
			t.Errorf("Release(%q) = %q, %v; want %q", codename, got, ok, want)
		}
	}
	for _, codename := range []string{"sid", "experimental", "", "bookworm-security"} {
		if v, ok := Release(codename); ok {
			t.Errorf("Release(%q) = %q, want not ok", codename, v)
		}
	}
}

func TestParseTrackerJSONSample(t *testing.T) {
	fh, err := os.Open(corpus.Path(t, "feeds", "samples", "debian-tracker-json.trimmed.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sink := &vulntest.Sink{}
	n, err := ParseTrackerJSON(context.Background(), fh, sink)
	if err != nil {
		t.Fatal(err)
	}
	// 24 release entries in the sample, 5 of them sid.
	if n != 19 || len(sink.Affects) != n {
		t.Errorf("records = %d (sink %d), want 24", n, len(sink.Affects))
	}
	if len(sink.Vulns) != 7 {
		t.Errorf("vulnerabilities = %d, want 7", len(sink.Vulns))
	}
	tests := []struct {
		eco, pkg, id string
		state        vuln.FixState
		fixed        string
		severity     string
	}{
		{"Debian:9", "prototypejs", "CVE-2008-7220", vuln.FixStateFixed, "1.6.0.2-1", vuln.SeverityHigh},
		{"Debian:10", "prototypejs", "CVE-2007-2383", vuln.FixStateNotAffected, "", vuln.SeverityNegligible},
		{"Debian:8", "txt2man", "CVE-2013-1444", vuln.FixStateFixed, "1.5.5-4.1", vuln.SeverityLow},
		{"Debian:10", "backupninja", "CVE-2005-3111", vuln.FixStateFixed, "0.8-2", vuln.SeverityMedium},
		{"Debian:11", "chromium", "CVE-2022-0456", vuln.FixStateFixed, "98.0.4758.80-1~deb11u1", ""},
		{"Debian:10", "chromium", "CVE-2022-0456", vuln.FixStateEndOfLife, "", ""},
		{"Debian:13", "sope", "CVE-2025-53603", vuln.FixStateFixed, "5.12.1-2", ""},
	}
	for _, tt := range tests {
		got := sink.Find(tt.eco, tt.pkg, tt.id)
		if len(got) != 1 {
			t.Errorf("%s %s %s: %d records", tt.eco, tt.pkg, tt.id, len(got))
			continue
		}
		a := got[0]
		if a.FixState != tt.state || a.Severity != tt.severity || a.Source != SourceTracker {
			t.Errorf("%s %s %s = %+v", tt.eco, tt.pkg, tt.id, a)
		}
		var fixed string
		if len(a.Ranges) == 1 && len(a.Ranges[0].Events) == 2 {
			fixed = a.Ranges[0].Events[1].Fixed
		}
		if fixed != tt.fixed {
			t.Errorf("%s %s %s fixed = %q, want %q", tt.eco, tt.pkg, tt.id, fixed, tt.fixed)
		}
		if tt.state == vuln.FixStateNotAffected && len(a.Ranges) != 0 {
			t.Errorf("not-affected record with ranges: %+v", a)
		}
	}
	for _, a := range sink.Affects {
		if strings.Contains(a.Ecosystem, "sid") || a.Ecosystem == "" {
			t.Errorf("unnumbered release emitted: %+v", a)
		}
	}
}

func TestParseTrackerJSONStates(t *testing.T) {
	doc := `{"pkg": {"CVE-2024-1": {"description": "d", "releases": {
		"bookworm": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": ""},
		"bullseye": {"status": "open", "urgency": "medium", "nodsa": "Minor issue", "nodsa_reason": "postponed"},
		"buster": {"status": "open", "urgency": "low", "nodsa": "x", "nodsa_reason": "ignored"},
		"stretch": {"status": "open", "urgency": "not yet assigned"},
		"jessie": {"status": "undetermined", "urgency": "unimportant"}}}}}`
	sink := &vulntest.Sink{}
	if _, err := ParseTrackerJSON(context.Background(), strings.NewReader(doc), sink); err != nil {
		t.Fatal(err)
	}
	want := map[string]vuln.FixState{
		"Debian:12": vuln.FixStateWontFix, "Debian:11": vuln.FixStateNotFixed, "Debian:10": vuln.FixStateWontFix,
		"Debian:9": vuln.FixStateNotFixed, "Debian:8": vuln.FixStateUnknown,
	}
	if len(sink.Affects) != len(want) {
		t.Fatalf("got %d records", len(sink.Affects))
	}
	for _, a := range sink.Affects {
		if a.FixState != want[a.Ecosystem] {
			t.Errorf("%s: %s, want %s", a.Ecosystem, a.FixState, want[a.Ecosystem])
		}
		if len(a.Ranges) != 1 || len(a.Ranges[0].Events) != 1 || a.Ranges[0].Events[0].Introduced != "0" {
			t.Errorf("%s: ranges %+v, want introduced 0 only", a.Ecosystem, a.Ranges)
		}
	}
	if sink.Vulns[0].Details != "d" {
		t.Errorf("vulnerability = %+v", sink.Vulns[0])
	}
}

func TestParseTrackerJSONErrors(t *testing.T) {
	for name, tt := range map[string]struct{ doc, want string }{
		"empty":           {"", "empty input"},
		"array":           {"[]", `expected "{"`},
		"truncated":       {`{"a": {"CVE-1": {"releases": {}}`, "unexpected EOF"},
		"cut after a key": {`{"a":`, "unexpected EOF"},
		"bad releases":    {`{"a": {"CVE-1": {"releases": [1]}}}`, "non-empty array"},
		"package string":  {`{"a": "x"}`, `expected "{"`},
		"unclosed":        {`{"a": {}`, "unexpected EOF"},
	} {
		_, err := ParseTrackerJSON(context.Background(), strings.NewReader(tt.doc), &vulntest.Sink{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to say %q", name, err, tt.want)
		}
	}
}

// expectedAdvisoryRecords counts what ParseAdvisoryList should emit by
// splitting the file on advisory headers: per advisory, (number of CVEs, or
// 1) times the release lines of numbered releases.
func expectedAdvisoryRecords(t *testing.T, content string) (advisories, records int) {
	t.Helper()
	header := regexp.MustCompile(`(?m)^\[\d+ \w+ \d{4}\] D[SL]A-`)
	starts := header.FindAllStringIndex(content, -1)
	cve := regexp.MustCompile(`CVE-\d+-\d+`)
	release := regexp.MustCompile(`(?m)^\s+\[([a-z]+)\]\s+-\s+\S+\s+\S`)
	for i, s := range starts {
		end := len(content)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		body := content[s[0]:end]
		ids := 0
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "{") {
				ids += len(cve.FindAllString(line, -1))
			}
		}
		ids = max(ids, 1)
		for _, m := range release.FindAllStringSubmatch(body, -1) {
			if _, ok := Release(m[1]); ok {
				records += ids
			}
		}
	}
	return len(starts), records
}

func TestParseAdvisoryListCorpus(t *testing.T) {
	for _, tt := range []struct {
		kind, file     string
		wantAdvisories int
	}{
		{"DSA", "DSA-list", 5406},
		{"DLA", "DLA-list", 3534},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			b, err := os.ReadFile(corpus.Path(t, "feeds", "debian", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			advisories, wantRecords := expectedAdvisoryRecords(t, string(b))
			if advisories != tt.wantAdvisories {
				t.Fatalf("independent advisory count %d, want %d", advisories, tt.wantAdvisories)
			}
			sink := &vulntest.Sink{}
			n, err := ParseAdvisoryList(context.Background(), bytes.NewReader(b), tt.kind, sink)
			if err != nil {
				t.Fatal(err)
			}
			if n != wantRecords || len(sink.Affects) != n {
				t.Errorf("records = %d (sink %d), independent count %d", n, len(sink.Affects), wantRecords)
			}
			got := 0
			for _, v := range sink.Vulns {
				if strings.HasPrefix(v.ID, tt.kind+"-") {
					got++
				}
			}
			if got != tt.wantAdvisories {
				t.Errorf("advisory records = %d, want %d", got, tt.wantAdvisories)
			}
		})
	}
}

func TestParseAdvisoryListKnownEntries(t *testing.T) {
	b, err := os.ReadFile(corpus.Path(t, "feeds", "debian", "DSA-list"))
	if err != nil {
		t.Fatal(err)
	}
	sink := &vulntest.Sink{}
	if _, err := ParseAdvisoryList(context.Background(), bytes.NewReader(b), "DSA", sink); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		eco, pkg, id string
		state        vuln.FixState
		fixed, note  string
	}{
		{"Debian:11", "xorg-server", "CVE-2023-1393", vuln.FixStateFixed, "2:1.20.11-1+deb11u6", ""},
		{"Debian:4", "squid", "CVE-2009-2622", vuln.FixStateNotAffected, "", "Vulnerable code introduced in 3.x"},
		{"Debian:5", "apache2", "CVE-2009-1890", vuln.FixStateFixed, "2.2.9-10+lenny4", ""},
		{"Debian:8", "virtualbox", "DSA-3699-1", vuln.FixStateEndOfLife, "", ""},
		{"Debian:11", "sox", "DSA-5356-2", vuln.FixStateFixed, "14.4.2+git20190427-2+deb11u2", ""},
		{"Debian:3.1", "horde3", "CVE-2007-6018", vuln.FixStateNotAffected, "", "Vulnerable code not present"},
	}
	for _, tt := range tests {
		got := sink.Find(tt.eco, tt.pkg, tt.id)
		if len(got) != 1 {
			t.Errorf("%s %s %s: %d records", tt.eco, tt.pkg, tt.id, len(got))
			continue
		}
		a := got[0]
		var fixed string
		if len(a.Ranges) == 1 && len(a.Ranges[0].Events) == 2 {
			fixed = a.Ranges[0].Events[1].Fixed
		}
		if a.FixState != tt.state || fixed != tt.fixed || a.Note != tt.note || a.Source != SourceDSA {
			t.Errorf("%s %s %s = %+v", tt.eco, tt.pkg, tt.id, a)
		}
	}
	var dsa, cve *vuln.Vulnerability
	for i, v := range sink.Vulns {
		switch v.ID {
		case "DSA-5380-1":
			dsa = &sink.Vulns[i]
		case "CVE-2023-1393":
			cve = &sink.Vulns[i]
		}
	}
	if dsa == nil || dsa.Summary != "xorg-server - security update" || dsa.Published.Format("2006-01-02") != "2023-03-29" ||
		len(dsa.Related) != 1 || dsa.Related[0] != "CVE-2023-1393" {
		t.Errorf("DSA-5380-1 = %+v", dsa)
	}
	if cve == nil || len(cve.Related) != 1 || cve.Related[0] != "DSA-5380-1" {
		t.Errorf("CVE-2023-1393 = %+v", cve)
	}
}

func TestParseAdvisoryListErrors(t *testing.T) {
	if _, err := ParseAdvisoryList(context.Background(), strings.NewReader(""), "USN", &vulntest.Sink{}); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := ParseAdvisoryList(context.Background(), strings.NewReader("just text\nmore\n"), "DSA", &vulntest.Sink{}); err == nil {
		t.Error("text without advisories accepted")
	}
	long := "[01 Jan 2020] DSA-1-1 x\n\t{" + strings.Repeat("CVE-2020-1 ", maxLineLength/10) + "}\n"
	if _, err := ParseAdvisoryList(context.Background(), strings.NewReader(long), "DSA", &vulntest.Sink{}); err == nil {
		t.Error("over-long line accepted")
	}
	sink := &vulntest.Sink{FailAt: 2}
	doc := "[01 Jan 2020] DSA-1-1 x - y\n\t{CVE-2020-1 CVE-2020-2}\n\t[buster] - x 1.0\n"
	if n, err := ParseAdvisoryList(context.Background(), strings.NewReader(doc), "DSA", sink); err == nil || n != 1 {
		t.Errorf("sink error: n = %d, err = %v", n, err)
	}
}

func FuzzParseTrackerJSON(f *testing.F) {
	f.Add([]byte(`{"p": {"CVE-2020-1": {"description": "x", "releases": {"bookworm": {"status": "resolved", "fixed_version": "1.0", "urgency": "low**"}}}}}`))
	f.Add([]byte(`{"p": {"CVE-2020-1": {"releases": []}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := &vulntest.Sink{}
		n, _ := ParseTrackerJSON(context.Background(), bytes.NewReader(b), sink)
		if n != len(sink.Affects) {
			t.Fatalf("returned %d, emitted %d", n, len(sink.Affects))
		}
	})
}

func FuzzParseAdvisoryList(f *testing.F) {
	f.Add([]byte("[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n"))
	f.Add([]byte("[28 Jul 2009] DSA-1843-1 squid3 - dos\n\t[etch] - squid <not-affected> (Vulnerable code)\n        NOTE: x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := &vulntest.Sink{}
		n, _ := ParseAdvisoryList(context.Background(), bytes.NewReader(b), "DSA", sink)
		if n != len(sink.Affects) {
			t.Fatalf("returned %d, emitted %d", n, len(sink.Affects))
		}
		for _, a := range sink.Affects {
			if a.VulnID == "" || a.Package == "" || a.Ecosystem == "" {
				t.Fatalf("incomplete record %+v", a)
			}
		}
	})
}

func BenchmarkParseAdvisoryList(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "feeds", "debian", "DSA-list"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseAdvisoryList(context.Background(), bytes.NewReader(data), "DSA", &vulntest.Sink{}); err != nil {
			b.Fatal(err)
		}
	}
}
