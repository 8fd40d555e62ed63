package debian

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Limits for the advisory lists; real advisories name at most a few
// hundred CVEs and lines stay under 16 KiB.
const (
	maxAdvisoryIDs     = 10_000
	maxAdvisoryEntries = 1_000
)

var (
	// "[29 Mar 2023] DSA-5380-1 xorg-server - security update"
	advisoryHeader = regexp.MustCompile(`^\[(\d{1,2} [A-Za-z]{3} \d{4})\]\s+(D[SL]A-\d+(?:-\d+)?)\s*(.*)$`)
	// "[bullseye] - xorg-server 2:1.20.11-1+deb11u6" or
	// "[lenny] - vlc <not-affected> (Vulnerable code not present)"
	advisoryEntry = regexp.MustCompile(`^\[([A-Za-z0-9-]+)\]\s+-\s+(\S+)\s*(\S*)\s*(.*)$`)
)

// advisory is one DSA/DLA as read from the list.
type advisory struct {
	line      int
	body      int // id and release lines read
	id        string
	summary   string
	published time.Time
	ids       []string
	entries   []advisoryEntryLine
}

type advisoryEntryLine struct {
	release, pkg, version, note string
}

// ParseAdvisoryList reads the security tracker's data/DSA/list or
// data/DLA/list (kind "DSA" or "DLA") one advisory at a time. Each
// advisory yields a Vulnerability for itself (related to its CVEs), one per
// CVE (related to the advisory), and an Affected record per (CVE, release
// line) for numbered releases; an advisory without CVEs uses its own id.
// It returns the number of Affected records. Fix states follow the
// tracker's markers (see markerState); a plain version is fixed.
func ParseAdvisoryList(ctx context.Context, r io.Reader, kind string, sink vuln.Sink) (int, error) {
	var source string
	switch kind {
	case "DSA":
		source = SourceDSA
	case "DLA":
		source = SourceDLA
	default:
		return 0, fmt.Errorf("advisory list: unknown kind %q (want DSA or DLA)", kind)
	}
	var (
		cur        *advisory
		total      int
		advisories int
		lines      int
		last       advisory
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		last = *cur
		n, err := emitAdvisory(*cur, source, sink)
		total += n
		advisories++
		cur = nil
		return err
	}
	err := ecosystem.ScanLines(ctx, r, maxLineLength, func(lineNo int, line string) error {
		lines = lineNo
		if m := matchHeader(line); m != nil {
			if err := flush(); err != nil {
				return err
			}
			published, _ := time.Parse("2 Jan 2006", m[1])
			cur = &advisory{line: lineNo, id: m[2], summary: strings.TrimSpace(m[3]), published: published}
			return nil
		}
		body := strings.TrimSpace(line)
		if cur == nil || body == "" || line[0] != ' ' && line[0] != '\t' {
			// Lines outside an advisory or unindented non-headers carry
			// nothing the parser uses.
			return nil
		}
		if err := cur.addBodyLine(body); err != nil {
			return fmt.Errorf("line %d (%s): %w", lineNo, cur.id, err)
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return total, fmt.Errorf("advisory list: %w", err)
	}
	if advisories == 0 && lines > 0 {
		return 0, fmt.Errorf("advisory list: no %s advisory header found in %d lines", kind, lines)
	}
	// The list is newest first and every old advisory names its CVEs or
	// releases: a last advisory with neither is a header whose body was
	// cut off.
	if advisories > 0 && last.body == 0 {
		return total, fmt.Errorf("advisory list: the last advisory, %s at line %d, has no CVE or release lines: the list looks truncated", last.id, last.line)
	}
	return total, nil
}

// matchHeader matches an advisory header line; the regexp only runs on
// lines that can be one.
func matchHeader(line string) []string {
	if !strings.HasPrefix(line, "[") {
		return nil
	}
	return advisoryHeader.FindStringSubmatch(line)
}

func (a *advisory) addBodyLine(body string) error {
	if strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") {
		a.body++
	}
	switch {
	case strings.HasPrefix(body, "{"):
		for _, id := range strings.Fields(strings.Trim(body, "{}")) {
			if len(a.ids) >= maxAdvisoryIDs {
				return fmt.Errorf("more than %d ids", maxAdvisoryIDs)
			}
			if !slices.Contains(a.ids, id) {
				a.ids = append(a.ids, id)
			}
		}
	case strings.HasPrefix(body, "["):
		m := advisoryEntry.FindStringSubmatch(body)
		if m == nil {
			return nil // an unrecognised release line; nothing to record
		}
		if len(a.entries) >= maxAdvisoryEntries {
			return fmt.Errorf("more than %d release lines", maxAdvisoryEntries)
		}
		a.entries = append(a.entries, advisoryEntryLine{
			release: m[1], pkg: m[2], version: m[3],
			note: strings.Trim(strings.TrimSpace(m[4]), "()"),
		})
	}
	// NOTE: lines and anything else are commentary.
	return nil
}

func emitAdvisory(a advisory, source string, sink vuln.Sink) (int, error) {
	if err := sink.Vulnerability(vuln.Vulnerability{
		ID: a.id, Summary: a.summary, Related: a.ids, Published: a.published, Source: source,
	}); err != nil {
		return 0, err
	}
	ids := a.ids
	if len(ids) == 0 {
		ids = []string{a.id}
	} else {
		for _, id := range ids {
			if err := sink.Vulnerability(vuln.Vulnerability{ID: id, Related: []string{a.id}, Source: source}); err != nil {
				return 0, err
			}
		}
	}
	n := 0
	for _, e := range a.entries {
		eco, ok := Ecosystem(e.release)
		if !ok || e.version == "" {
			continue
		}
		state := vuln.FixStateFixed
		if strings.HasPrefix(e.version, "<") {
			state = markerState(e.version)
		}
		for _, id := range ids {
			af := vuln.Affected{
				VulnID:    id,
				Source:    source,
				Ecosystem: eco,
				Package:   e.pkg,
				Ranges:    rangesFor(state, e.version),
				FixState:  state,
				Note:      e.note,
				Advisory:  a.id,
			}
			if err := sink.Affected(af); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
