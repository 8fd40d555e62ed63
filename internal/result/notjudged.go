package result

import (
	"fmt"
	"strings"
)

// Reasons a part of the image was not judged (NotJudged.Reason).
const (
	// NotJudgedNoData: the vulnerability DB holds no advisories for the
	// OS release or language ecosystem, so its packages were not checked.
	NotJudgedNoData = "no-data"
	// NotJudgedUnsupported: Vigil has no vulnerability source for the
	// distribution (or cannot tell which release it is).
	NotJudgedUnsupported = "unsupported"
	// NotJudgedNoVersionRules: no version comparator for the ecosystem.
	NotJudgedNoVersionRules = "no-version-rules"
	// NotJudgedEndOfLife: the OS release is past its vendor's end of
	// support; its packages were checked, but the vendor no longer
	// publishes fixes or advisories, so new flaws are missing.
	NotJudgedEndOfLife = "end-of-life"
	// NotJudgedStaleFeed: a feed's last update failed and the DB holds
	// its older data.
	NotJudgedStaleFeed = "stale-feed"
)

// Scopes of a NotJudged entry.
const (
	ScopeOS        = "os"
	ScopeEcosystem = "ecosystem"
	ScopeFeed      = "feed"
)

// NotJudged is something the scan could not judge, or judged with data it
// knows to be incomplete. Every report format shows these; the gate fails
// on them with --fail-on-unsupported. An empty list means every package
// was matched against data the DB holds.
type NotJudged struct {
	// Scope is "os" (the distribution release), "ecosystem" (a language
	// ecosystem) or "feed" (a DB source).
	Scope string `json:"scope"`
	// Target names it for people: "alpine 3.20", "npm", "osv/PyPI".
	Target string `json:"target"`
	// Ecosystem is the key the DB was asked for ("Alpine:v3.20", "npm").
	Ecosystem string `json:"ecosystem,omitempty"`
	// Reason is one of the NotJudged* codes.
	Reason string `json:"reason"`
	// Packages is how many packages of the inventory it concerns.
	Packages int `json:"packages"`
	// Message is one sentence that says what it means.
	Message string `json:"message"`
	// Since is the end-of-life date (YYYY-MM-DD) for NotJudgedEndOfLife.
	Since string `json:"since,omitempty"`
	// Source cites where an end-of-life date comes from.
	Source string `json:"source,omitempty"`
}

// String is the entry as one line for text formats.
func (n NotJudged) String() string {
	return fmt.Sprintf("%s (%s): %s", n.Target, n.Reason, n.Message)
}

// NotJudgedSummary is the entries as one line ("alpine 3.20 (no-data),
// npm (no-data)"), for gate reasons and summaries.
func NotJudgedSummary(ns []NotJudged) string {
	parts := make([]string, 0, len(ns))
	for _, n := range ns {
		parts = append(parts, n.Target+" ("+n.Reason+")")
	}
	return strings.Join(parts, ", ")
}
