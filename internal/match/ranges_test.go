package match

import (
	"testing"

	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

func ev(kind, v string) vuln.Event {
	switch kind {
	case "i":
		return vuln.Event{Introduced: v}
	case "f":
		return vuln.Event{Fixed: v}
	case "l":
		return vuln.Event{LastAffected: v}
	}
	return vuln.Event{Limit: v}
}

// TestRangeSemantics covers OSV range evaluation with real ecosystem rules.
func TestRangeSemantics(t *testing.T) {
	tests := []struct {
		name     string
		eco      string
		typ      string
		events   []vuln.Event
		v        string
		affected bool
		fix      string
	}{
		{"from zero", "PyPI", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("f", "2.0")}, "1.9", true, "2.0"},
		{"fixed is not affected", "PyPI", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("f", "2.0")}, "2.0", false, ""},
		{"pre-release before fix", "PyPI", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("f", "2.0")}, "2.0rc1", true, "2.0"},
		{"before introduced", "PyPI", "ECOSYSTEM", []vuln.Event{ev("i", "1.5"), ev("f", "2.0")}, "1.4.9", false, ""},
		{"at introduced", "PyPI", "ECOSYSTEM", []vuln.Event{ev("i", "1.5"), ev("f", "2.0")}, "1.5", true, "2.0"},
		{"last_affected inclusive", "npm", "SEMVER", []vuln.Event{ev("i", "0"), ev("l", "1.2.3")}, "1.2.3", true, ""},
		{"after last_affected", "npm", "SEMVER", []vuln.Event{ev("i", "0"), ev("l", "1.2.3")}, "1.2.4", false, ""},
		{"open interval", "crates.io", "SEMVER", []vuln.Event{ev("i", "0.3.0")}, "9.9.9", true, ""},
		{"unsorted events, second interval", "Go", "SEMVER", []vuln.Event{ev("f", "1.4.2"), ev("i", "1.4.0"), ev("f", "1.2.5"), ev("i", "0")}, "v1.4.1", true, "1.4.2"},
		{"unsorted events, gap", "Go", "SEMVER", []vuln.Event{ev("f", "1.4.2"), ev("i", "1.4.0"), ev("f", "1.2.5"), ev("i", "0")}, "v1.3.0", false, ""},
		{"unsorted events, first interval", "Go", "SEMVER", []vuln.Event{ev("f", "1.4.2"), ev("i", "1.4.0"), ev("f", "1.2.5"), ev("i", "0")}, "v1.2.0", true, "1.2.5"},
		{"limit excludes", "Maven", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("lim", "2.0")}, "2.1", false, ""},
		{"below limit", "Maven", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("lim", "2.0")}, "1.9", true, ""},
		{"limit star", "Maven", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("lim", "*")}, "9", true, ""},
		{"go stdlib toolchain form", "Go", "SEMVER", []vuln.Event{ev("i", "0"), ev("f", "1.22.5")}, "go1.22.4", true, "1.22.5"},
		{"go pseudo-version", "Go", "SEMVER", []vuln.Event{ev("i", "0"), ev("f", "0.17.0")}, "v0.0.0-20230101000000-abcdefabcdef", true, "0.17.0"},
		{"dpkg epoch", "Debian:12", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("f", "1:2.0-1")}, "2.5-1", true, "1:2.0-1"},
		{"rpm el release", "AlmaLinux:9", "ECOSYSTEM", []vuln.Event{ev("i", "0"), ev("f", "1:3.0.7-24.el9")}, "1:3.0.7-18.el9", true, "1:3.0.7-24.el9"},
	}
	for _, tt := range tests {
		cmp, err := version.For(tt.eco)
		if err != nil {
			t.Fatal(err)
		}
		if tt.typ == "SEMVER" {
			cmp = semverComparator(cmp)
		}
		pr := prepareRange(cmp, vuln.Range{Type: tt.typ, Events: tt.events})
		got, err := pr.evaluate(tt.v)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got.affected != tt.affected || got.fix != tt.fix {
			t.Errorf("%s: evaluate(%s) = %+v, want affected=%v fix=%q", tt.name, tt.v, got, tt.affected, tt.fix)
		}
	}
}

func TestRangeUnparsableEvent(t *testing.T) {
	cmp, _ := version.For("PyPI")
	pr := prepareRange(cmp, vuln.Range{Type: "ECOSYSTEM", Events: []vuln.Event{ev("i", "0"), ev("f", "not a version")}})
	if _, err := pr.evaluate("1.0"); err == nil {
		t.Fatal("want an error for an unparsable fixed version")
	}
}
