package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxVEXSize bounds a VEX document read into memory.
const maxVEXSize = 64 << 20

// vexEntry is one statement of an OpenVEX document or one analysed
// vulnerability of a CycloneDX VEX, in one shape.
type vexEntry struct {
	doc   string
	index int
	// ids are the vulnerability's name, @id and aliases, upper case.
	ids      []string
	products []vexProduct
	// status is as written: OpenVEX not_affected, affected, fixed,
	// under_investigation; CycloneDX not_affected, false_positive, resolved,
	// resolved_with_pedigree, in_triage, exploitable.
	status        string
	justification string
	// reason is the impact statement / status notes / analysis detail.
	reason string
	// action is OpenVEX action_statement or CycloneDX responses.
	action string
	time   time.Time
}

// vexProduct is what a statement applies to. refs identify the product:
// an image (oci/docker purl, reference, digest) or a package (purl). When
// subs are present and the product is an image, the statement applies to
// those packages in it; when the product is a package, to the product
// itself, or to subs when the product is present in the report.
type vexProduct struct {
	refs   []vexRef
	hashes []string
	subs   []vexRef
}

type vexRef struct {
	raw  string
	purl purlRef
	// isPURL is set when raw parsed as a package URL.
	isPURL bool
	// narrowed is set when purl.version is not raw's but a version the
	// document lists separately (CycloneDX affects[].versions).
	narrowed bool
}

func newVEXRef(s string) vexRef {
	s = strings.TrimSpace(s)
	p, ok := parsePURL(s)
	return vexRef{raw: s, purl: p, isPURL: ok}
}

func (s *vexEntry) ref() string { return fmt.Sprintf("%s#%d", s.doc, s.index) }

func (s *vexEntry) suppresses() bool {
	switch s.status {
	case "not_affected", "fixed", "false_positive", "resolved", "resolved_with_pedigree":
		return true
	}
	return false
}

func (s *vexEntry) suppression() *vuln.Suppression {
	return &vuln.Suppression{Kind: KindVEX, Rule: s.ref(), Status: s.status,
		Justification: s.justification, Reason: s.reason}
}

// annotation is the note a non-suppressing statement leaves on a finding.
func (s *vexEntry) annotation() string {
	note := fmt.Sprintf("VEX %s (%s)", s.status, s.ref())
	var parts []string
	if s.reason != "" {
		parts = append(parts, s.reason)
	}
	if s.action != "" {
		parts = append(parts, "action: "+s.action)
	}
	if len(parts) > 0 {
		note += ": " + strings.Join(parts, "; ")
	}
	return note
}

// vexIndex finds the statements about a finding quickly.
type vexIndex struct {
	stmts []vexStatement
	byID  map[string][]int32
	// expanded holds the statements unpacked so far.
	expanded map[int32]*vexEntry
	// pkgs are the report's package purls, parsed once.
	pkgs   []purlRef
	purls  map[string]purlRef
	report *result.Report
}

func newVEXIndex(stmts []vexStatement, r *result.Report) *vexIndex {
	x := &vexIndex{stmts: stmts, byID: map[string][]int32{}, expanded: map[int32]*vexEntry{},
		purls: map[string]purlRef{}, report: r}
	// Only the ids the report names are indexed: a large VEX document
	// says something about far more vulnerabilities than one image has.
	for i := range r.Vulnerabilities {
		f := &r.Vulnerabilities[i]
		x.byID[strings.ToUpper(f.ID)] = nil
		for _, a := range f.Aliases {
			x.byID[strings.ToUpper(a)] = nil
		}
	}
	for i := range stmts {
		for id := range strings.SplitSeq(stmts[i].ids, "\n") {
			if l, ok := x.byID[id]; ok && (len(l) == 0 || l[len(l)-1] != int32(i)) {
				x.byID[id] = append(l, int32(i))
			}
		}
	}
	if len(stmts) > 0 {
		for _, p := range r.Packages {
			if pr, ok := parsePURL(p.PURL); ok {
				x.pkgs = append(x.pkgs, pr)
			}
		}
	}
	return x
}

// latest returns the most recent statement that applies to the finding, or
// nil. Ties in time go to the statement loaded last.
func (x *vexIndex) latest(f *vuln.Finding, img imageView) *vexEntry {
	if len(x.stmts) == 0 {
		return nil
	}
	var cand []int32
	for _, id := range append([]string{f.ID}, f.Aliases...) {
		cand = append(cand, x.byID[strings.ToUpper(id)]...)
	}
	if len(cand) == 0 {
		return nil
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	pkg, ok := x.parsed(f.Package.PURL)
	var best *vexEntry
	for _, i := range cand {
		s := x.expand(i)
		if !x.applies(s, f, pkg, ok, img) {
			continue
		}
		if best == nil || !s.time.Before(best.time) {
			best = s
		}
	}
	return best
}

func (x *vexIndex) expand(i int32) *vexEntry {
	if e, ok := x.expanded[i]; ok {
		return e
	}
	e := x.stmts[i].expand()
	x.expanded[i] = e
	return e
}

func (x *vexIndex) parsed(purl string) (purlRef, bool) {
	if p, ok := x.purls[purl]; ok {
		return p, p.typ != ""
	}
	p, _ := parsePURL(purl)
	x.purls[purl] = p
	return p, p.typ != ""
}

func (x *vexIndex) applies(s *vexEntry, f *vuln.Finding, pkg purlRef, ok bool, img imageView) bool {
	matchSubs := func(subs []vexRef) bool {
		return slices.ContainsFunc(subs, func(r vexRef) bool {
			return r.isPURL && r.purl.matchPackage(f.Package, pkg, ok)
		})
	}
	for _, p := range s.products {
		if p.identifiesImage(img) {
			if len(p.subs) == 0 || matchSubs(p.subs) {
				return true
			}
			continue
		}
		for _, r := range p.refs {
			if !r.isPURL || r.purl.isImage() {
				continue
			}
			if r.purl.matchPackage(f.Package, pkg, ok) {
				return true
			}
			if len(p.subs) > 0 && matchSubs(p.subs) && x.present(r.purl) {
				return true
			}
		}
	}
	return false
}

// present reports whether a package the purl names is in the report.
func (x *vexIndex) present(p purlRef) bool {
	for _, have := range x.pkgs {
		if have.typ == p.typ && strings.EqualFold(have.namespace, p.namespace) && have.name == p.name &&
			(p.version == "" || p.version == have.version) {
			return true
		}
	}
	return false
}

func (p *vexProduct) identifiesImage(img imageView) bool {
	for _, r := range p.refs {
		if r.isPURL {
			if r.purl.isImage() && r.purl.matchImage(img) {
				return true
			}
		} else if img.matchReference(r.raw) {
			return true
		}
	}
	return slices.ContainsFunc(p.hashes, img.hasDigest)
}

// LoadVEX reads an OpenVEX (JSON) or CycloneDX VEX (JSON, spec 1.4 to 1.6)
// document; the format is detected from the content. The document is
// streamed (jsonStream), not read whole.
func LoadVEX(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stmts, err := readVEX(path, f)
	if err != nil {
		return nil, err
	}
	return &Policy{Sources: []string{path}, vex: stmts}, nil
}

func parseVEX(path string, data []byte) ([]vexStatement, error) {
	return readVEX(path, bytes.NewReader(data))
}

// vexDoc is what one pass over a VEX document collects, whatever its
// format; the format is known only at the end (keys come in any order).
type vexDoc struct {
	context, bomFormat     string
	hasStatements, hasCSAF bool
	hasVulns               bool
	timestamp, lastUpdated string
	openvex                []vexStatement
	cdx                    cdxDoc
}

// readVEX reads a VEX document in one streaming pass.
func readVEX(path string, src io.ReadSeeker) ([]vexStatement, error) {
	return readVEXMax(path, src, maxVEXSize)
}

func readVEXMax(path string, src io.ReadSeeker, max int64) ([]vexStatement, error) {
	s := newJSONStream(path, src, max)
	var d vexDoc
	str := func(key string, dst *string, strict bool) error {
		if strict {
			return s.decode(key, -1, dst)
		}
		var raw json.RawMessage
		if err := s.decode(key, -1, &raw); err != nil {
			return err
		}
		_ = json.Unmarshal(raw, dst)
		return nil
	}
	origin := &vexSource{path: path}
	var st openVEXStatement
	err := s.object("", func(key string) error {
		switch key {
		case "@context":
			return str(key, &d.context, false)
		case "bomFormat":
			return str(key, &d.bomFormat, false)
		case "timestamp":
			return str(key, &d.timestamp, true)
		case "last_updated":
			return str(key, &d.lastUpdated, true)
		case "statements":
			d.hasStatements = true
			d.openvex = d.openvex[:0]
			return s.array("statements", func(i int) error {
				st = openVEXStatement{}
				if err := s.decode("statements", i, &st); err != nil {
					return err
				}
				e, err := openVEXEntry(path, i, &st)
				if err != nil {
					return err
				}
				d.openvex = append(d.openvex, pack(origin, e))
				return nil
			})
		case "vulnerabilities":
			d.hasVulns = true
			if d.hasCSAF {
				return s.skip()
			}
			return d.cdx.readVulnerabilities(s)
		case "document":
			d.hasCSAF = true
			return s.skip()
		}
		if ok, err := d.cdx.readKey(s, key); ok {
			return err
		}
		return s.skip()
	})
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, err
	}
	switch {
	case d.bomFormat == "CycloneDX":
		return d.cdx.statements(origin)
	case strings.HasPrefix(d.context, "https://openvex.dev/ns") || d.hasStatements:
		docTime, err := latestTime(d.timestamp, d.lastUpdated)
		if err != nil {
			return nil, fmt.Errorf("%s: document: %w", path, err)
		}
		origin.time = docTime
		return slices.Clip(d.openvex), nil
	case d.hasCSAF && d.hasVulns:
		return nil, fmt.Errorf("%s: CSAF documents are not supported; convert to OpenVEX (vexctl) or CycloneDX VEX", path)
	}
	return nil, fmt.Errorf("%s: not a VEX document: expected OpenVEX (\"@context\": \"https://openvex.dev/ns/...\") or CycloneDX (\"bomFormat\": \"CycloneDX\")", path)
}

// jsonError turns a decoding error into "file:line:col: message", the
// position pointing at the offending byte.
func jsonError(path string, data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1
	case errors.As(err, &typ):
		off = typ.Offset - 1
		want := jsonKind(typ.Type)
		switch {
		case typ.Field == "":
			err = fmt.Errorf("got JSON %s, want %s", typ.Value, want)
		default:
			err = fmt.Errorf("%s: got JSON %s, want %s", typ.Field, typ.Value, want)
		}
	}
	if syn != nil && off < 0 {
		off = 0 // empty input
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("%s: %w", path, err)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("%s:%d:%d: %w", path, line, col, err)
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another type"
}

// parseTime accepts RFC 3339 timestamps (with or without fractional
// seconds) and bare dates.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q (want RFC 3339, e.g. 2024-05-17T10:30:00Z)", s)
}

func upperIDs(ids ...string) []string {
	var out []string
	for _, id := range ids {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
