package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// CycloneDX analysis states and their effect.
var cdxStates = []string{
	string(cdx.IASNotAffected), string(cdx.IASFalsePositive), string(cdx.IASResolved),
	string(cdx.IASResolvedWithPedigree), string(cdx.IASInTriage), string(cdx.IASExploitable),
}

// cdxDoc collects, in one streaming pass over a CycloneDX BOM (a
// standalone VEX or an SBOM with embedded VEX), what its VEX needs: the
// components' bom-ref to purl map, the metadata, and the vulnerabilities
// with an analysis state (the others take no part). Components may come
// after the vulnerabilities, so refs are resolved at the end.
type cdxDoc struct {
	spec      cdx.SpecVersion
	purls     map[string]string
	image     *vexRef
	timestamp string
	vulns     []cdxPending
}

// cdxPending is an analysed vulnerability as read, packed (vexpack.go)
// until the end of the document: statements checks and converts it then,
// in order, when every component is known. A cdxVuln decoded with
// cyclonedx-go's types is about 1 KB; a 64 MiB VEX of 215,000 of them
// took 209 MB of heap before any was converted.
type cdxPending struct {
	index int32
	// ids: the id and the references' ids, upper case, "\n"-separated.
	ids string
	// body: state, justification, detail, responses, the four times
	// (analysis lastUpdated and firstIssued, updated, published), and
	// the affects: each ref, whether it has versions, and the versions.
	body string
}

func packCDXVuln(v *cdxVuln) cdxPending {
	ids := []string{v.ID}
	if v.References != nil {
		for _, r := range *v.References {
			ids = append(ids, r.ID)
		}
	}
	a := v.Analysis
	var p packer
	p.str(string(a.State))
	p.str(string(a.Justification))
	p.str(a.Detail)
	if a.Response != nil {
		var rs []string
		for _, r := range *a.Response {
			rs = append(rs, string(r))
		}
		p.str(strings.Join(rs, ", "))
	} else {
		p.str("")
	}
	for _, t := range []string{a.LastUpdated, a.FirstIssued, v.Updated, v.Published} {
		p.str(t)
	}
	if v.Affects == nil {
		p.num(0)
	} else {
		p.num(uint64(len(*v.Affects)))
		for _, af := range *v.Affects {
			p.str(af.Ref)
			if af.Range == nil || len(*af.Range) == 0 {
				p.num(0)
				continue
			}
			p.num(1 + uint64(len(*af.Range)))
			for _, r := range *af.Range {
				p.str(r.Version)
			}
		}
	}
	return cdxPending{index: int32(v.index), ids: strings.Join(upperIDs(ids...), "\n"), body: p.b.String()}
}

// cdxComponent is the part of a component the VEX needs.
type cdxComponent struct {
	BOMRef     string         `json:"bom-ref"`
	PackageURL string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

// cdxVuln is the part of a vulnerability the VEX needs.
type cdxVuln struct {
	index      int
	ID         string                        `json:"id"`
	References *[]cdx.VulnerabilityReference `json:"references"`
	Analysis   *cdx.VulnerabilityAnalysis    `json:"analysis"`
	Affects    *[]cdx.Affects                `json:"affects"`
	Published  string                        `json:"published"`
	Updated    string                        `json:"updated"`
}

// readKey reads the value of a top-level key it needs; false for others.
func (d *cdxDoc) readKey(s *jsonStream, key string) (bool, error) {
	switch key {
	case "specVersion":
		return true, s.decode(key, -1, &d.spec)
	case "metadata":
		var m struct {
			Timestamp string        `json:"timestamp"`
			Component *cdxComponent `json:"component"`
		}
		if err := s.decode(key, -1, &m); err != nil {
			return true, err
		}
		d.timestamp = m.Timestamp
		if c := m.Component; c != nil {
			d.collect([]cdxComponent{*c})
			if r := newVEXRef(c.PackageURL); r.isPURL && r.purl.isImage() {
				d.image = &r
			}
		}
		return true, nil
	case "components":
		return true, s.array(key, func(i int) error {
			var c cdxComponent
			if err := s.decode(key, i, &c); err != nil {
				return err
			}
			d.collect([]cdxComponent{c})
			return nil
		})
	}
	return false, nil
}

func (d *cdxDoc) collect(cs []cdxComponent) {
	if d.purls == nil {
		d.purls = map[string]string{}
	}
	for _, c := range cs {
		if c.BOMRef != "" && c.PackageURL != "" {
			d.purls[c.BOMRef] = c.PackageURL
		}
		d.collect(c.Components)
	}
}

func (d *cdxDoc) readVulnerabilities(s *jsonStream) error {
	d.vulns = d.vulns[:0]
	return s.array("vulnerabilities", func(i int) error {
		var v cdxVuln
		if err := s.decode("vulnerabilities", i, &v); err != nil {
			return err
		}
		if v.Analysis != nil && v.Analysis.State != "" {
			v.index = i
			d.vulns = append(d.vulns, packCDXVuln(&v))
		}
		return nil
	})
}

// statements converts the collected vulnerabilities. affects[].ref is
// resolved through the BOM's components (bom-ref to purl); a BOM-Link's
// fragment and a ref that is itself a purl are accepted as well. When the
// BOM describes an image (metadata.component with an oci/docker purl), its
// statements apply only to that image.
func (d *cdxDoc) statements(src *vexSource) ([]vexStatement, error) {
	path := src.path
	if d.spec != 0 && d.spec < cdx.SpecVersion1_4 {
		return nil, fmt.Errorf("%s: CycloneDX %s has no VEX; 1.4 or later is required", path, d.spec)
	}
	var docTime time.Time
	if d.timestamp != "" {
		t, err := parseTime(d.timestamp)
		if err != nil {
			return nil, fmt.Errorf("%s: metadata.timestamp: %w", path, err)
		}
		docTime = t
	}
	var out []vexStatement
	for i := range d.vulns {
		v := &d.vulns[i]
		where := fmt.Sprintf("%s: vulnerabilities[%d]", path, v.index)
		if v.ids == "" {
			return nil, fmt.Errorf("%s: no id", where)
		}
		ids := strings.Split(v.ids, "\n")
		u := unpacker{b: v.body}
		state, justification, detail, action := u.str(), u.str(), u.str(), u.str()
		if !slices.Contains(cdxStates, state) {
			return nil, fmt.Errorf("%s (%s): invalid analysis.state %q (want one of %s)", where, ids[0], state, strings.Join(cdxStates, ", "))
		}
		t, err := latestTime(u.str(), u.str(), u.str(), u.str())
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", where, ids[0], err)
		}
		if t.IsZero() {
			t = docTime
		}
		st := vexEntry{doc: path, index: int(v.index), ids: ids, status: state,
			justification: justification, reason: detail, action: action, time: t}
		affects := make([]cdx.Affects, u.num())
		if len(affects) == 0 {
			return nil, fmt.Errorf("%s (%s): analysis without affects", where, ids[0])
		}
		for j := range affects {
			affects[j].Ref = u.str()
			if n := u.num(); n > 0 {
				versions := make([]cdx.AffectedVersions, n-1)
				for k := range versions {
					versions[k].Version = u.str()
				}
				affects[j].Range = &versions
			}
		}
		d.vulns[i] = cdxPending{} // converted: its memory can go
		for _, af := range affects {
			for _, ref := range affectedRefs(af, d.purls) {
				if d.image != nil && !ref.purl.isImage() {
					st.products = append(st.products, vexProduct{refs: []vexRef{*d.image}, subs: []vexRef{ref}})
				} else {
					st.products = append(st.products, vexProduct{refs: []vexRef{ref}})
				}
			}
		}
		if len(st.products) > 0 {
			out = append(out, pack(src, &st))
		}
	}
	return out, nil
}

// affectedRefs resolves one affects entry to purls. With a versions list,
// each listed version narrows the purl (whatever its status: a not_affected
// analysis typically lists the versions as "unaffected"); version
// ranges (vers) are not evaluated, so an entry with only ranges matches
// nothing rather than everything.
func affectedRefs(af cdx.Affects, purls map[string]string) []vexRef {
	ref := af.Ref
	purl, ok := purls[ref]
	if !ok && cdx.IsBOMLink(ref) {
		if l, err := cdx.ParseBOMLink(ref); err == nil {
			ref = l.Reference()
			purl, ok = purls[ref]
		}
	}
	if !ok {
		purl = ref
	}
	base := newVEXRef(purl)
	if !base.isPURL {
		return nil
	}
	if af.Range == nil || len(*af.Range) == 0 {
		return []vexRef{base}
	}
	var out []vexRef
	for _, v := range *af.Range {
		if v.Version == "" {
			continue
		}
		r := base
		r.purl.version, r.narrowed = v.Version, true
		out = append(out, r)
	}
	return out
}
