package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// OpenVEX statement (github.com/openvex/spec, v0.2.0, with the v0.0.x
// spellings: vulnerability and products as plain strings, statement-level
// subcomponents). The document's own fields are read by readVEX.
type openVEXStatement struct {
	Vulnerability   openVEXVuln      `json:"vulnerability"`
	Products        []openVEXProduct `json:"products"`
	Subcomponents   []openVEXProduct `json:"subcomponents"`
	Status          string           `json:"status"`
	StatusNotes     string           `json:"status_notes"`
	Justification   string           `json:"justification"`
	ImpactStatement string           `json:"impact_statement"`
	ActionStatement string           `json:"action_statement"`
	Timestamp       string           `json:"timestamp"`
	LastUpdated     string           `json:"last_updated"`
}

type openVEXVuln struct {
	ID      string   `json:"@id"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
}

func (v *openVEXVuln) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return nested(json.Unmarshal(b, &v.Name))
	}
	type plain openVEXVuln
	return nested(json.Unmarshal(b, (*plain)(v)))
}

type openVEXProduct struct {
	ID            string            `json:"@id"`
	Identifiers   map[string]string `json:"identifiers"`
	Hashes        map[string]string `json:"hashes"`
	Subcomponents []openVEXProduct  `json:"subcomponents"`
}

func (p *openVEXProduct) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return nested(json.Unmarshal(b, &p.ID))
	}
	type plain openVEXProduct
	return nested(json.Unmarshal(b, (*plain)(p)))
}

// refs lists the product's identifiers, not parsed: they are packed as
// written and parsed when the statement is unpacked.
func (p *openVEXProduct) refs() []vexRef {
	var out []vexRef
	if id := strings.TrimSpace(p.ID); id != "" {
		out = append(out, vexRef{raw: id})
	}
	// purl is the identifier that matters for images and packages; CPEs
	// cannot be matched against an inventory reliably and are ignored.
	if purl := strings.TrimSpace(p.Identifiers["purl"]); purl != "" && purl != p.ID {
		out = append(out, vexRef{raw: purl})
	}
	return out
}

var openVEXStatuses = []string{"not_affected", "affected", "fixed", "under_investigation"}

// openVEXEntry checks and converts statement i; a zero time means the
// document's time (known only once the whole document is read).
func openVEXEntry(path string, i int, s *openVEXStatement) (*vexEntry, error) {
	where := fmt.Sprintf("%s: statement %d", path, i)
	ids := upperIDs(append([]string{s.Vulnerability.Name, s.Vulnerability.ID, iriTail(s.Vulnerability.ID)}, s.Vulnerability.Aliases...)...)
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: vulnerability has no name or @id", where)
	}
	if !slices.Contains(openVEXStatuses, s.Status) {
		return nil, fmt.Errorf("%s (%s): invalid status %q (want one of %s)", where, ids[0], s.Status, strings.Join(openVEXStatuses, ", "))
	}
	if len(s.Products) == 0 {
		return nil, fmt.Errorf("%s (%s): no products", where, ids[0])
	}
	t, err := latestTime(s.Timestamp, s.LastUpdated)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", where, ids[0], err)
	}
	st := &vexEntry{
		doc: path, index: i, ids: ids, status: s.Status, time: t,
		justification: s.Justification, reason: s.ImpactStatement, action: s.ActionStatement,
	}
	if st.reason == "" {
		st.reason = s.StatusNotes
	} else if s.StatusNotes != "" {
		st.reason += " (" + s.StatusNotes + ")"
	}
	for _, p := range s.Products {
		vp := vexProduct{refs: p.refs()}
		for _, h := range p.Hashes {
			vp.hashes = append(vp.hashes, h)
		}
		for _, sub := range append(p.Subcomponents, s.Subcomponents...) {
			vp.subs = append(vp.subs, sub.refs()...)
		}
		if len(vp.refs) == 0 && len(vp.hashes) == 0 {
			return nil, fmt.Errorf("%s (%s): a product has no @id, purl or hashes", where, ids[0])
		}
		st.products = append(st.products, vp)
	}
	return st, nil
}

// latestTime parses the non-empty timestamps and returns the latest.
func latestTime(ts ...string) (time.Time, error) {
	var out time.Time
	for _, s := range ts {
		if s == "" {
			continue
		}
		t, err := parseTime(s)
		if err != nil {
			return time.Time{}, err
		}
		if t.After(out) {
			out = t
		}
	}
	return out, nil
}

// iriTail returns the last path element of an IRI @id such as
// https://nvd.nist.gov/vuln/detail/CVE-2021-44228, "" for non-IRIs.
func iriTail(id string) string {
	if !strings.Contains(id, "://") {
		return ""
	}
	id = strings.TrimRight(id, "/")
	return id[strings.LastIndex(id, "/")+1:]
}
