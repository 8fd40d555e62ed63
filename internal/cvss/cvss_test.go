package cvss

import (
	"errors"
	"testing"

	"github.com/vigil-scan/vigil/internal/vuln"
)

func TestParse(t *testing.T) {
	tests := []struct {
		vector, version string
		score           float64
	}{
		// NVD published scores.
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8},                    // CVE-2021-44228 class
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0},                   // Log4Shell
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", "3.1", 5.9},                    // CVE-2016-2183 style
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "3.1", 7.8},                    // local privesc
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "3.0", 6.1},                    // reflected XSS
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", "3.1", 0.0},                    // no impact
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", 7.5},                                      // CVE-2014-0160-era
		{"(AV:N/AC:M/Au:N/C:N/I:P/A:N)", "2.0", 4.3},                                    // NVD wrapped form
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", "2.0", 10.0},                                     // full
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3}, // FIRST calculator
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 8.5},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", "4.0", 5.3},
	}
	for _, tt := range tests {
		got, err := Parse(tt.vector)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.vector, err)
			continue
		}
		if got.Version != tt.version || got.Score != tt.score {
			t.Errorf("Parse(%q) = %s %.1f, want %s %.1f", tt.vector, got.Version, got.Score, tt.version, tt.score)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, v := range []string{
		"", "garbage", "CVSS:3.1/", "CVSS:3.1/AV:N/AC:L", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:5.0/AV:N", "AV:N/AC:L/Au:N/C:P/I:P", "CVSS:4.0/AV:N/AC:L",
	} {
		if _, err := Parse(v); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) err = %v, want ErrInvalid", v, err)
		}
	}
}

func TestSeverityFromScore(t *testing.T) {
	tests := []struct {
		version string
		score   float64
		want    string
	}{
		{"2.0", 0, vuln.SeverityLow}, {"2.0", 3.9, vuln.SeverityLow}, {"2.0", 4.0, vuln.SeverityMedium},
		{"2.0", 6.9, vuln.SeverityMedium}, {"2.0", 7.0, vuln.SeverityHigh}, {"2.0", 10, vuln.SeverityHigh},
		{"3.1", 0, vuln.SeverityNegligible}, {"3.1", 0.1, vuln.SeverityLow}, {"3.1", 3.9, vuln.SeverityLow},
		{"3.0", 4.0, vuln.SeverityMedium}, {"3.1", 6.9, vuln.SeverityMedium}, {"3.1", 7.0, vuln.SeverityHigh},
		{"3.1", 8.9, vuln.SeverityHigh}, {"3.1", 9.0, vuln.SeverityCritical}, {"4.0", 10, vuln.SeverityCritical},
		{"4.0", 9.3, vuln.SeverityCritical}, {"3.1", 11, vuln.SeverityUnknown}, {"3.1", -1, vuln.SeverityUnknown},
	}
	for _, tt := range tests {
		if got := SeverityFromScore(tt.version, tt.score); got != tt.want {
			t.Errorf("SeverityFromScore(%s, %.1f) = %s, want %s", tt.version, tt.score, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "(AV:N/AC:M/Au:N/C:N/I:P/A:N)", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N/E:P"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err == nil && (c.Score < 0 || c.Score > 10 || c.Version == "") {
			t.Fatalf("Parse(%q) = %+v", s, c)
		}
	})
}
