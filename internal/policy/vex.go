package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxVEXSize bounds a VEX document read into memory.
const maxVEXSize = 64 << 20

// vexStatement is one statement of an OpenVEX document or one analysed
// vulnerability of a CycloneDX VEX, in one shape.
type vexStatement struct {
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
}

func newVEXRef(s string) vexRef {
	s = strings.TrimSpace(s)
	p, ok := parsePURL(s)
	return vexRef{raw: s, purl: p, isPURL: ok}
}

func (s *vexStatement) ref() string { return fmt.Sprintf("%s#%d", s.doc, s.index) }

func (s *vexStatement) suppresses() bool {
	switch s.status {
	case "not_affected", "fixed", "false_positive", "resolved", "resolved_with_pedigree":
		return true
	}
	return false
}

func (s *vexStatement) suppression() *vuln.Suppression {
	return &vuln.Suppression{Kind: KindVEX, Rule: s.ref(), Status: s.status,
		Justification: s.justification, Reason: s.reason}
}

// annotation is the note a non-suppressing statement leaves on a finding.
func (s *vexStatement) annotation() string {
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
	byID  map[string][]int
	// pkgs are the report's package purls, parsed once.
	pkgs   []purlRef
	purls  map[string]purlRef
	report *result.Report
}

func newVEXIndex(stmts []vexStatement, r *result.Report) *vexIndex {
	x := &vexIndex{stmts: stmts, byID: map[string][]int{}, purls: map[string]purlRef{}, report: r}
	for i := range stmts {
		for _, id := range stmts[i].ids {
			if l := x.byID[id]; len(l) == 0 || l[len(l)-1] != i {
				x.byID[id] = append(l, i)
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
func (x *vexIndex) latest(f *vuln.Finding, img imageView) *vexStatement {
	if len(x.stmts) == 0 {
		return nil
	}
	var cand []int
	for _, id := range append([]string{f.ID}, f.Aliases...) {
		cand = append(cand, x.byID[strings.ToUpper(id)]...)
	}
	if len(cand) == 0 {
		return nil
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	pkg, ok := x.parsed(f.Package.PURL)
	var best *vexStatement
	for _, i := range cand {
		s := &x.stmts[i]
		if !x.applies(s, f, pkg, ok, img) {
			continue
		}
		if best == nil || !s.time.Before(best.time) {
			best = s
		}
	}
	return best
}

func (x *vexIndex) parsed(purl string) (purlRef, bool) {
	if p, ok := x.purls[purl]; ok {
		return p, p.typ != ""
	}
	p, _ := parsePURL(purl)
	x.purls[purl] = p
	return p, p.typ != ""
}

func (x *vexIndex) applies(s *vexStatement, f *vuln.Finding, pkg purlRef, ok bool, img imageView) bool {
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
// document; the format is detected from the content.
func LoadVEX(path string) (*Policy, error) {
	data, err := readLimited(path, maxVEXSize)
	if err != nil {
		return nil, err
	}
	stmts, err := parseVEX(path, data)
	if err != nil {
		return nil, err
	}
	return &Policy{Sources: []string{path}, vex: stmts}, nil
}

func parseVEX(path string, data []byte) ([]vexStatement, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, jsonError(path, data, err)
	}
	var bomFormat, context string
	_ = json.Unmarshal(probe["bomFormat"], &bomFormat)
	_ = json.Unmarshal(probe["@context"], &context)
	switch {
	case bomFormat == "CycloneDX":
		return parseCycloneDXVEX(path, data)
	case strings.HasPrefix(context, "https://openvex.dev/ns") || probe["statements"] != nil:
		return parseOpenVEX(path, data)
	case probe["document"] != nil && probe["vulnerabilities"] != nil:
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
