package policy

import (
	"encoding/json"
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

// parseCycloneDXVEX reads the vulnerabilities of a CycloneDX BOM (a
// standalone VEX or an SBOM with embedded VEX). Only entries with an
// analysis state take part. affects[].ref is resolved through the BOM's
// components (bom-ref to purl); a BOM-Link's fragment and a ref that is
// itself a purl are accepted as well. When the BOM describes an image
// (metadata.component with an oci/docker purl), its statements apply only
// to that image.
func parseCycloneDXVEX(path string, data []byte) ([]vexStatement, error) {
	var bom cdx.BOM
	if err := json.Unmarshal(data, &bom); err != nil {
		return nil, jsonError(path, data, err)
	}
	if bom.SpecVersion != 0 && bom.SpecVersion < cdx.SpecVersion1_4 {
		return nil, fmt.Errorf("%s: CycloneDX %s has no VEX; 1.4 or later is required", path, bom.SpecVersion)
	}
	purls := map[string]string{}
	var image *vexRef
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		c := bom.Metadata.Component
		collectPURLs(purls, []cdx.Component{*c})
		if r := newVEXRef(c.PackageURL); r.isPURL && r.purl.isImage() {
			image = &r
		}
	}
	if bom.Components != nil {
		collectPURLs(purls, *bom.Components)
	}
	var docTime time.Time
	if bom.Metadata != nil && bom.Metadata.Timestamp != "" {
		t, err := parseTime(bom.Metadata.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("%s: metadata.timestamp: %w", path, err)
		}
		docTime = t
	}
	if bom.Vulnerabilities == nil {
		return nil, nil
	}
	var out []vexStatement
	for i, v := range *bom.Vulnerabilities {
		if v.Analysis == nil || v.Analysis.State == "" {
			continue
		}
		where := fmt.Sprintf("%s: vulnerabilities[%d]", path, i)
		ids := []string{v.ID}
		if v.References != nil {
			for _, r := range *v.References {
				ids = append(ids, r.ID)
			}
		}
		ids = upperIDs(ids...)
		if len(ids) == 0 {
			return nil, fmt.Errorf("%s: no id", where)
		}
		a := v.Analysis
		if !slices.Contains(cdxStates, string(a.State)) {
			return nil, fmt.Errorf("%s (%s): invalid analysis.state %q (want one of %s)", where, ids[0], a.State, strings.Join(cdxStates, ", "))
		}
		t, err := latestTime(a.LastUpdated, a.FirstIssued, v.Updated, v.Published)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", where, ids[0], err)
		}
		if t.IsZero() {
			t = docTime
		}
		st := vexStatement{doc: path, index: i, ids: ids, status: string(a.State),
			justification: string(a.Justification), reason: a.Detail, time: t}
		if a.Response != nil {
			var rs []string
			for _, r := range *a.Response {
				rs = append(rs, string(r))
			}
			st.action = strings.Join(rs, ", ")
		}
		if v.Affects == nil || len(*v.Affects) == 0 {
			return nil, fmt.Errorf("%s (%s): analysis without affects", where, ids[0])
		}
		for _, af := range *v.Affects {
			for _, ref := range affectedRefs(af, purls) {
				if image != nil && !ref.purl.isImage() {
					st.products = append(st.products, vexProduct{refs: []vexRef{*image}, subs: []vexRef{ref}})
				} else {
					st.products = append(st.products, vexProduct{refs: []vexRef{ref}})
				}
			}
		}
		if len(st.products) > 0 {
			out = append(out, st)
		}
	}
	return out, nil
}

func collectPURLs(m map[string]string, cs []cdx.Component) {
	for _, c := range cs {
		if c.BOMRef != "" && c.PackageURL != "" {
			m[c.BOMRef] = c.PackageURL
		}
		if c.Components != nil {
			collectPURLs(m, *c.Components)
		}
	}
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
		r.purl.version = v.Version
		out = append(out, r)
	}
	return out
}
