package osv

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/cvss"
	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// MaxRecordSize bounds one OSV record; larger ones are rejected.
const MaxRecordSize = 16 << 20

// Limits on the parts of one record, so a hostile record cannot make the
// DB hold unbounded data.
const (
	maxAffected = 10000
	maxVersions = 100000
	maxEvents   = 10000
)

// Parse converts one OSV JSON record. A withdrawn record returns its
// Vulnerability (with Withdrawn set) and no Affected records. Problems that
// only drop part of a record (an unknown range type) are not errors; use
// ParseRecord to see them.
func Parse(data []byte) (vuln.Vulnerability, []vuln.Affected, error) {
	r, err := ParseRecord(data)
	return r.Vulnerability, r.Affected, err
}

// Record is a converted OSV record with the notes about what was dropped.
type Record struct {
	Vulnerability vuln.Vulnerability
	Affected      []vuln.Affected
	// Warnings describe dropped parts (unknown range types, bad times).
	Warnings []string
}

// ParseRecord is Parse with warnings.
func ParseRecord(data []byte) (Record, error) {
	var rec Record
	if len(data) > MaxRecordSize {
		return rec, fmt.Errorf("OSV record is %d bytes, over the %d byte limit", len(data), MaxRecordSize)
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return rec, fmt.Errorf("decoding OSV record: %w", err)
	}
	if strings.TrimSpace(e.ID) == "" {
		return rec, errors.New("OSV record has no id")
	}
	if len(e.Affected) > maxAffected {
		return rec, fmt.Errorf("OSV record %s has %d affected entries, over the %d limit", e.ID, len(e.Affected), maxAffected)
	}
	warn := func(format string, args ...any) {
		rec.Warnings = append(rec.Warnings, e.ID+": "+fmt.Sprintf(format, args...))
	}
	v := vuln.Vulnerability{
		ID:      e.ID,
		Aliases: nonEmpty(e.Aliases),
		Related: nonEmpty(e.Related),
		Summary: e.Summary,
		Details: e.Details,
		CVSS:    convertSeverity(e.Severity),
		Source:  "osv",
	}
	for _, ref := range e.References {
		if ref.URL != "" {
			v.References = append(v.References, ref.URL)
		}
	}
	v.Published = parseTime(e.Published, "published", warn)
	v.Modified = parseTime(e.Modified, "modified", warn)
	v.Withdrawn = parseTime(e.Withdrawn, "withdrawn", warn)
	if e.Withdrawn != "" && v.Withdrawn.IsZero() {
		// A withdrawn marker we cannot date is still a withdrawal.
		v.Withdrawn = time.Unix(0, 0).UTC()
	}
	if len(e.Affected) > 0 {
		if base := ecosystem.Base(e.Affected[0].Package.Ecosystem); base != "" {
			v.Source = "osv:" + base
		}
	}
	rec.Vulnerability = v
	if !v.Withdrawn.IsZero() {
		return rec, nil
	}
	recordSeverity := vendorSeverity(e.DatabaseSpecific)
	if recordSeverity == "" {
		recordSeverity = summarySeverity(e.Summary)
	}
	for i, a := range e.Affected {
		aff, ok := convertAffected(v, a, recordSeverity, func(format string, args ...any) {
			warn("affected[%d]: "+format, append([]any{i}, args...)...)
		})
		if ok {
			rec.Affected = append(rec.Affected, aff)
		}
	}
	return rec, nil
}

func convertAffected(v vuln.Vulnerability, a Affected, recordSeverity string, warn func(string, ...any)) (vuln.Affected, bool) {
	if a.Package.Ecosystem == "" || strings.TrimSpace(a.Package.Name) == "" {
		// Git-only entries (no package) cannot be matched against an image.
		return vuln.Affected{}, false
	}
	if len(a.Versions) > maxVersions {
		warn("%d versions, over the %d limit; dropped", len(a.Versions), maxVersions)
		return vuln.Affected{}, false
	}
	eco := ecosystem.Canonical(a.Package.Ecosystem)
	out := vuln.Affected{
		VulnID:    v.ID,
		Source:    v.Source,
		Ecosystem: eco,
		Package:   ecosystem.NormalizeName(eco, a.Package.Name),
		Versions:  nonEmpty(a.Versions),
		FixState:  vuln.FixStateNotFixed,
	}
	for _, r := range a.Ranges {
		switch r.Type {
		case "ECOSYSTEM", "SEMVER":
		case "GIT":
			// Commit ranges need the source repository; only the explicit
			// versions that accompany them can be matched.
			continue
		default:
			warn("unknown range type %q dropped", r.Type)
			continue
		}
		if len(r.Events) > maxEvents {
			warn("range with %d events, over the %d limit; dropped", len(r.Events), maxEvents)
			continue
		}
		rg := vuln.Range{Type: r.Type}
		for _, ev := range r.Events {
			e := vuln.Event{Introduced: ev.Introduced, Fixed: ev.Fixed, LastAffected: ev.LastAffected, Limit: ev.Limit}
			if e == (vuln.Event{}) {
				continue
			}
			if e.Fixed != "" {
				out.FixState = vuln.FixStateFixed
			}
			rg.Events = append(rg.Events, e)
		}
		if len(rg.Events) > 0 {
			out.Ranges = append(out.Ranges, rg)
		}
	}
	if len(out.Ranges) == 0 && len(out.Versions) == 0 {
		return vuln.Affected{}, false
	}
	eco1, db1 := parseSpecific(a.EcosystemSpecific), parseSpecific(a.DatabaseSpecific)
	out.Severity = cmp.Or(vuln.NormalizeSeverity(eco1.Severity), vuln.NormalizeSeverity(db1.Severity), recordSeverity)
	for _, imp := range eco1.Imports {
		out.Symbols = append(out.Symbols, imp.Symbols...)
	}
	if eco1.Affects != nil {
		out.Symbols = append(out.Symbols, eco1.Affects.Functions...)
	}
	return out, true
}

// convertSeverity keeps the CVSS vectors with their base scores; a vector
// internal/cvss cannot score is kept with Score 0.
func convertSeverity(sev []Severity) []vuln.CVSS {
	var out []vuln.CVSS
	for _, s := range sev {
		vector := strings.TrimSpace(s.Score)
		if vector == "" {
			continue
		}
		c := vuln.CVSS{Vector: vector, Source: "osv"}
		switch s.Type {
		case "CVSS_V2":
			c.Version = "2.0"
		case "CVSS_V3":
			c.Version = "3.1"
			if strings.HasPrefix(vector, "CVSS:3.0/") {
				c.Version = "3.0"
			}
		case "CVSS_V4":
			c.Version = "4.0"
		default:
			continue
		}
		if parsed, err := cvss.Parse(vector); err == nil {
			c.Version, c.Vector, c.Score = parsed.Version, parsed.Vector, parsed.Score
		}
		out = append(out, c)
	}
	return out
}

func parseSpecific(raw json.RawMessage) specific {
	var s specific
	if len(raw) > 0 {
		// database_specific is free-form; a shape we do not know is ignored.
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

func vendorSeverity(raw json.RawMessage) string {
	return vuln.NormalizeSeverity(parseSpecific(raw).Severity)
}

// summarySeverity reads Red Hat style summaries ("Important: kernel
// security update") as AlmaLinux and Rocky publish them.
func summarySeverity(summary string) string {
	word, _, ok := strings.Cut(summary, ":")
	if !ok {
		return ""
	}
	return vuln.NormalizeSeverity(word)
}

func parseTime(s, field string, warn func(string, ...any)) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		warn("bad %s time %q ignored", field, s)
		return time.Time{}
	}
	return t.UTC()
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
