package debian

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// MaxTrackerSize bounds the tracker JSON read. The full feed is about
// 70 MB today; memory stays at one CVE record whatever the size.
const MaxTrackerSize = 2 << 30

// trackerCVE is one CVE of one source package in the tracker JSON.
type trackerCVE struct {
	Description string     `json:"description"`
	Scope       string     `json:"scope"`
	Releases    releaseMap `json:"releases"`
}

// releaseMap is the releases object. The tracker's Perl encoder writes an
// empty one as [] (seen for chromium-browser), so an array is accepted when
// it is empty.
type releaseMap map[string]trackerRelease

func (m *releaseMap) UnmarshalJSON(b []byte) error {
	var arr []json.RawMessage
	if err := json.Unmarshal(b, &arr); err == nil {
		if len(arr) > 0 {
			return errors.New("releases: a non-empty array, want an object")
		}
		*m = nil
		return nil
	}
	return json.Unmarshal(b, (*map[string]trackerRelease)(m))
}

type trackerRelease struct {
	Status       string `json:"status"`
	FixedVersion string `json:"fixed_version"`
	Urgency      string `json:"urgency"`
	NoDSA        string `json:"nodsa"`
	NoDSAReason  string `json:"nodsa_reason"`
}

// ParseTrackerJSON streams the security tracker's JSON
// ({source: {cve: {description, releases: {codename: {...}}}}}) one CVE at
// a time, sending a Vulnerability per CVE and an Affected record per
// (source package, CVE, numbered release). It returns the number of
// Affected records. Releases without a number (sid, experimental) are
// skipped.
//
// Fix states: resolved with fixed_version "0" is not-affected; resolved with
// a version is fixed; open is end-of-life when its urgency says so,
// wont-fix when nodsa is set (nodsa_reason "ignored" or a plain no-dsa),
// not-fixed otherwise (including nodsa_reason "postponed"); undetermined is
// unknown.
func ParseTrackerJSON(ctx context.Context, r io.Reader, sink vuln.Sink) (int, error) {
	lr := &io.LimitedReader{R: r, N: MaxTrackerSize + 1}
	total, err := parseTracker(ctx, json.NewDecoder(lr), sink)
	if lr.N <= 0 {
		// The input was cut at the limit: that, not the decoder's view of
		// the cut document, is the cause.
		return total, fmt.Errorf("tracker: input larger than %d bytes", int64(MaxTrackerSize))
	}
	if err != nil {
		return total, fmt.Errorf("tracker: %w", err)
	}
	return total, nil
}

func parseTracker(ctx context.Context, dec *json.Decoder, sink vuln.Sink) (int, error) {
	if err := ecosystem.ExpectDelim(dec, '{'); err != nil {
		return 0, err
	}
	total := 0
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		pkg, err := objectKey(dec)
		if err != nil {
			return total, err
		}
		n, err := parseTrackerPackage(ctx, dec, pkg, sink)
		total += n
		if err != nil {
			return total, fmt.Errorf("package %q: %w", pkg, err)
		}
	}
	return total, ecosystem.ExpectDelim(dec, '}')
}

// parseTrackerPackage reads one package's object of CVEs; its errors are
// wrapped with the package by the caller.
func parseTrackerPackage(ctx context.Context, dec *json.Decoder, pkg string, sink vuln.Sink) (int, error) {
	if err := ecosystem.ExpectDelim(dec, '{'); err != nil {
		return 0, err
	}
	total := 0
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		id, err := objectKey(dec)
		if err != nil {
			return total, err
		}
		var rec trackerCVE
		if err := dec.Decode(&rec); err != nil {
			return total, fmt.Errorf("%s: %w", id, err)
		}
		n, err := emitTrackerCVE(pkg, id, rec, sink)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, ecosystem.ExpectDelim(dec, '}')
}

func emitTrackerCVE(pkg, id string, rec trackerCVE, sink vuln.Sink) (int, error) {
	pkg, id = strings.TrimSpace(pkg), strings.TrimSpace(id)
	if pkg == "" || id == "" {
		return 0, nil
	}
	if err := sink.Vulnerability(vuln.Vulnerability{ID: id, Details: rec.Description, Source: SourceTracker}); err != nil {
		return 0, err
	}
	codenames := make([]string, 0, len(rec.Releases))
	for c := range rec.Releases {
		codenames = append(codenames, c)
	}
	slices.Sort(codenames)
	n := 0
	for _, codename := range codenames {
		eco, ok := Ecosystem(codename)
		if !ok {
			continue
		}
		rel := rec.Releases[codename]
		state, note := trackerState(rel)
		a := vuln.Affected{
			VulnID:    id,
			Source:    SourceTracker,
			Ecosystem: eco,
			Package:   pkg,
			Ranges:    rangesFor(state, rel.FixedVersion),
			FixState:  state,
			Severity:  severityOf(rel.Urgency),
			Note:      note,
		}
		if err := sink.Affected(a); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func trackerState(rel trackerRelease) (vuln.FixState, string) {
	var note string
	if rel.NoDSA != "" || rel.NoDSAReason != "" {
		note = strings.TrimSpace("no-dsa: " + strings.TrimSpace(rel.NoDSAReason+" "+rel.NoDSA))
	}
	fixed := strings.TrimSpace(rel.FixedVersion)
	switch rel.Status {
	case "resolved":
		switch fixed {
		case "0":
			return vuln.FixStateNotAffected, note
		case "":
			return vuln.FixStateUnknown, note
		}
		return vuln.FixStateFixed, note
	case "open":
		switch {
		case strings.TrimRight(rel.Urgency, "*") == "end-of-life":
			return vuln.FixStateEndOfLife, note
		case rel.NoDSAReason == "postponed":
			return vuln.FixStateNotFixed, note
		case rel.NoDSA != "" || rel.NoDSAReason != "":
			return vuln.FixStateWontFix, note
		}
		return vuln.FixStateNotFixed, note
	}
	return vuln.FixStateUnknown, note
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, got %v", tok)
	}
	return key, nil
}
