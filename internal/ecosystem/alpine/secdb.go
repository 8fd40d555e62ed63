package alpine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// FeedSource names the secdb feed in records.
const FeedSource = "alpine-secdb"

// MaxSecDBSize bounds a secdb document. yaml.v3 cannot stream inside one
// document, so the YAML form is read whole; real files are under 1 MiB.
const MaxSecDBSize = 64 << 20

// secdbPackage is one packages[] entry: the origin (source) package and its
// fixed versions, each with the ids it fixes.
type secdbPackage struct {
	Pkg struct {
		Name     string              `json:"name" yaml:"name"`
		Secfixes map[string][]string `json:"secfixes" yaml:"secfixes"`
	} `json:"pkg" yaml:"pkg"`
}

type secdbDocument struct {
	DistroVersion string         `yaml:"distroversion"`
	RepoName      string         `yaml:"reponame"`
	Packages      []secdbPackage `yaml:"packages"`
}

// ParseSecDB reads one secdb file (format "yaml" or "json") and sends an
// Affected record per (origin, id) and a Vulnerability per id to sink. It
// returns the number of Affected records.
//
// Fix states: a fixed version "0" means the branch never shipped the flaw
// (not-affected, no ranges); any other version is fixed with the range
// introduced "0", fixed V. Entries such as "CVE-2017-8904 XSA-214" yield the
// CVE as the id with the other ids as related; entries naming no CVE use
// their first advisory-style id (XSA-207); entries with no id are skipped.
func ParseSecDB(ctx context.Context, r io.Reader, format string, sink vuln.Sink) (int, error) {
	lr := &io.LimitedReader{R: r, N: MaxSecDBSize + 1}
	var (
		n   int
		err error
	)
	switch format {
	case "yaml", "yml":
		n, err = parseSecDBYAML(ctx, lr, sink)
	case "json":
		n, err = parseSecDBJSON(ctx, lr, sink)
	default:
		return 0, fmt.Errorf("secdb: unknown format %q (want yaml or json)", format)
	}
	if lr.N <= 0 {
		return n, fmt.Errorf("secdb: document larger than %d bytes", MaxSecDBSize)
	}
	return n, err
}

func parseSecDBYAML(ctx context.Context, r io.Reader, sink vuln.Sink) (int, error) {
	var doc secdbDocument
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, errors.New("secdb: empty document")
		}
		return 0, fmt.Errorf("secdb: decoding yaml: %w", err)
	}
	eco, err := ecosystemOf(doc.DistroVersion)
	if err != nil {
		return 0, err
	}
	// packages is the document's last key and every entry has fixes: a
	// last entry without any is one whose lines were cut off.
	if n := len(doc.Packages); n > 0 && len(doc.Packages[n-1].Pkg.Secfixes) == 0 {
		return 0, fmt.Errorf("secdb: the last package (%q) has no secfixes: the document looks truncated", doc.Packages[n-1].Pkg.Name)
	}
	total := 0
	for i := range doc.Packages {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := emitPackage(eco, doc.Packages[i], sink)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// parseSecDBJSON streams the packages array so only one entry is decoded at
// a time. Entries met before "distroversion" are held until it is known.
func parseSecDBJSON(ctx context.Context, r io.Reader, sink vuln.Sink) (int, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return 0, err
	}
	var (
		eco     string
		pending []secdbPackage
		total   int
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return total, fmt.Errorf("secdb: reading json: %w", err)
		}
		key, _ := tok.(string)
		switch key {
		case "distroversion":
			var v string
			if err := dec.Decode(&v); err != nil {
				return total, fmt.Errorf("secdb: distroversion: %w", err)
			}
			if eco, err = ecosystemOf(v); err != nil {
				return total, err
			}
			for _, p := range pending {
				n, err := emitPackage(eco, p, sink)
				total += n
				if err != nil {
					return total, err
				}
			}
			pending = nil
		case "packages":
			if err := expectDelim(dec, '['); err != nil {
				return total, err
			}
			for dec.More() {
				if err := ctx.Err(); err != nil {
					return total, err
				}
				var p secdbPackage
				if err := dec.Decode(&p); err != nil {
					return total, fmt.Errorf("secdb: package entry: %w", err)
				}
				if eco == "" {
					pending = append(pending, p)
					continue
				}
				n, err := emitPackage(eco, p, sink)
				total += n
				if err != nil {
					return total, err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return total, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return total, fmt.Errorf("secdb: field %q: %w", key, err)
			}
		}
	}
	if eco == "" {
		return total, errors.New("secdb: no distroversion")
	}
	return total, nil
}

// expectDelim is ecosystem.ExpectDelim with the feed's name on the error.
func expectDelim(dec *json.Decoder, want json.Delim) error {
	if err := ecosystem.ExpectDelim(dec, want); err != nil {
		return fmt.Errorf("secdb: reading json: %w", err)
	}
	return nil
}

var branchPattern = regexp.MustCompile(`^(v\d+\.\d+|edge)$`)

// ecosystemOf turns a secdb distroversion ("v3.10") into the OSV ecosystem
// the image side computes for Alpine ("Alpine:v3.10").
func ecosystemOf(distroVersion string) (string, error) {
	v := strings.TrimSpace(distroVersion)
	if !branchPattern.MatchString(v) {
		return "", fmt.Errorf("secdb: distroversion %q is not an Alpine branch like v3.10", distroVersion)
	}
	return "Alpine:" + v, nil
}

var (
	cvePattern      = regexp.MustCompile(`CVE[- ](\d{4})-(\d{4,})`)
	advisoryPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*-\d[A-Za-z0-9-]*$`)
)

// parseFixEntry extracts ids from one secfixes list item. Items are free
// text in practice: "CVE-2018-14461 (LDP)", "CVE 2018-16859",
// "CVE-2017-8073.patch", "CVE-2017-12122 TALOS-2017-0488".
func parseFixEntry(entry string) (ids, related []string) {
	for _, m := range cvePattern.FindAllStringSubmatch(entry, -1) {
		id := "CVE-" + m[1] + "-" + m[2]
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, tok := range strings.Fields(entry) {
		if strings.HasPrefix(tok, "CVE") || !advisoryPattern.MatchString(tok) {
			continue
		}
		related = append(related, tok)
	}
	if len(ids) == 0 && len(related) > 0 {
		return related[:1], related[1:]
	}
	return ids, related
}

func emitPackage(eco string, p secdbPackage, sink vuln.Sink) (int, error) {
	name := strings.TrimSpace(p.Pkg.Name)
	if name == "" {
		return 0, nil
	}
	// Map order is random; sort so output (and the DB built from it) is
	// reproducible.
	versions := make([]string, 0, len(p.Pkg.Secfixes))
	for v := range p.Pkg.Secfixes {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	n := 0
	for _, key := range versions {
		fixed := strings.TrimSpace(key)
		for _, entry := range p.Pkg.Secfixes[key] {
			ids, related := parseFixEntry(entry)
			for _, id := range ids {
				if err := sink.Vulnerability(vuln.Vulnerability{ID: id, Related: related, Source: FeedSource}); err != nil {
					return n, err
				}
				if err := sink.Affected(affected(eco, name, id, fixed)); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

func affected(eco, pkg, id, fixed string) vuln.Affected {
	a := vuln.Affected{VulnID: id, Source: FeedSource, Ecosystem: eco, Package: pkg}
	if fixed == "0" || fixed == "" {
		a.FixState = vuln.FixStateNotAffected
		return a
	}
	a.FixState = vuln.FixStateFixed
	a.Ranges = []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: "0"}, {Fixed: fixed}}}}
	return a
}
