package debian

import (
	"strings"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// Feed source names used in records.
const (
	SourceTracker = "debian-tracker"
	SourceDSA     = "debian-dsa"
	SourceDLA     = "debian-dla"
)

// allVersions is the range of a release that is affected with no fix.
var allVersions = []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: "0"}}}}

// fixedRange is the range of a release fixed in version v.
func fixedRange(v string) []vuln.Range {
	return []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: "0"}, {Fixed: v}}}}
}

// markerState maps the tracker's <marker> annotations to fix states:
//
//	<not-affected>           not-affected: the release never had the flaw
//	<end-of-life>            end-of-life: the package is out of security support
//	<unfixed>, <postponed>   not-fixed: affected, a fix may still come
//	                         (postponed means deferred to a point release)
//	<no-dsa>, <ignored>      wont-fix: the security team decided not to
//	                         issue a fix for the release (minor issue, or
//	                         too intrusive to backport)
//	anything else            unknown
func markerState(marker string) vuln.FixState {
	switch strings.Trim(marker, "<>") {
	case "not-affected":
		return vuln.FixStateNotAffected
	case "end-of-life":
		return vuln.FixStateEndOfLife
	case "unfixed", "postponed":
		return vuln.FixStateNotFixed
	case "no-dsa", "ignored":
		return vuln.FixStateWontFix
	}
	return vuln.FixStateUnknown
}

// rangesFor returns the ranges that go with a fix state: none when the
// release is not affected, everything from 0 when it is and no fix exists.
func rangesFor(state vuln.FixState, fixed string) []vuln.Range {
	switch state {
	case vuln.FixStateFixed:
		return fixedRange(fixed)
	case vuln.FixStateNotAffected:
		return nil
	}
	return allVersions
}

// severityOf maps a tracker urgency to a vuln severity. A trailing "*" or
// "**" marks urgencies the tracker derived from NVD rather than set itself;
// the level is the same.
func severityOf(urgency string) string {
	switch strings.TrimRight(strings.TrimSpace(urgency), "*") {
	case "unimportant":
		return vuln.SeverityNegligible
	case "low":
		return vuln.SeverityLow
	case "medium":
		return vuln.SeverityMedium
	case "high":
		return vuln.SeverityHigh
	}
	// "not yet assigned", "end-of-life", empty.
	return ""
}
