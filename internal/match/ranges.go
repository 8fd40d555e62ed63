package match

import (
	"fmt"
	"slices"

	"github.com/vigil-scan/vigil/internal/version"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// preparedRange is a range with its events sorted once, when the record
// enters the matcher's cache.
type preparedRange struct {
	cmp    version.Comparator
	events []vuln.Event
	limits []string
	// err is set when an event version does not parse; the range is then
	// never evaluated (reported, not guessed).
	err error
}

// record is a cached Affected record ready for evaluation.
type record struct {
	vuln.Affected
	cmp    version.Comparator
	ranges []preparedRange
}

// eventVersion returns the version an event carries and whether it is the
// special introduced "0" (the beginning of time).
func eventVersion(e vuln.Event) (v string, zero bool) {
	switch {
	case e.Introduced != "":
		return e.Introduced, e.Introduced == "0"
	case e.Fixed != "":
		return e.Fixed, false
	case e.LastAffected != "":
		return e.LastAffected, false
	}
	return e.Limit, false
}

// prepareRange sorts events by version as the OSV specification requires;
// introduced "0" sorts first. Limits are kept apart ("*" means no limit).
func prepareRange(cmp version.Comparator, r vuln.Range) preparedRange {
	pr := preparedRange{cmp: cmp}
	for _, e := range r.Events {
		if e.Limit != "" {
			if e.Limit != "*" {
				pr.limits = append(pr.limits, e.Limit)
			}
			continue
		}
		pr.events = append(pr.events, e)
	}
	for _, e := range pr.events {
		if v, zero := eventVersion(e); !zero {
			if _, err := cmp.Compare(v, v); err != nil {
				pr.err = fmt.Errorf("range event: %w", err)
				return pr
			}
		}
	}
	for _, l := range pr.limits {
		if _, err := cmp.Compare(l, l); err != nil {
			pr.err = fmt.Errorf("range limit: %w", err)
			return pr
		}
	}
	slices.SortStableFunc(pr.events, func(a, b vuln.Event) int {
		va, za := eventVersion(a)
		vb, zb := eventVersion(b)
		switch {
		case za && zb:
			return 0
		case za:
			return -1
		case zb:
			return 1
		}
		r, _ := cmp.Compare(va, vb) // both validated above
		return r
	})
	return pr
}

// rangeHit is the outcome of evaluating one range for one version.
type rangeHit struct {
	affected bool
	// fix is the fixed event closing the interval that contains the
	// version; empty when the interval is open or ends at last_affected.
	fix string
}

// evaluate applies the OSV algorithm: walking the sorted events, an
// introduced at or below v opens an interval, a fixed at or below v closes
// it, a last_affected below v closes it; v at or above every limit is never
// affected.
func (pr preparedRange) evaluate(v string) (rangeHit, error) {
	if pr.err != nil {
		return rangeHit{}, pr.err
	}
	if len(pr.limits) > 0 {
		below := false
		for _, l := range pr.limits {
			r, err := pr.cmp.Compare(v, l)
			if err != nil {
				return rangeHit{}, err
			}
			if r < 0 {
				below = true
				break
			}
		}
		if !below {
			return rangeHit{}, nil
		}
	}
	vulnerable := false
	next := len(pr.events) // first event above v
	for i, e := range pr.events {
		ev, zero := eventVersion(e)
		var r int
		if !zero {
			var err error
			if r, err = pr.cmp.Compare(v, ev); err != nil {
				return rangeHit{}, err
			}
		}
		switch {
		case e.Introduced != "":
			if zero || r >= 0 {
				vulnerable = true
			}
		case e.Fixed != "":
			if r >= 0 {
				vulnerable = false
			}
		case e.LastAffected != "":
			if r > 0 {
				vulnerable = false
			}
		}
		if !zero && r < 0 {
			next = i
			break
		}
	}
	hit := rangeHit{affected: vulnerable}
	if vulnerable {
		for _, e := range pr.events[next:] {
			if e.LastAffected != "" {
				break
			}
			if e.Fixed != "" {
				hit.fix = e.Fixed
				break
			}
		}
	}
	return hit, nil
}

// fixesAbove lists the record's fixed versions above v, for remediation.
func (rec *record) fixesAbove(v string) []string {
	var out []string
	for _, pr := range rec.ranges {
		if pr.err != nil {
			continue
		}
		for _, e := range pr.events {
			if e.Fixed == "" {
				continue
			}
			if r, err := pr.cmp.Compare(e.Fixed, v); err == nil && r > 0 {
				out = append(out, e.Fixed)
			}
		}
	}
	return out
}

// inVersions reports whether v is one of the record's explicit versions.
func (rec *record) inVersions(v string) bool {
	for _, lv := range rec.Versions {
		if lv == v {
			return true
		}
		if r, err := rec.cmp.Compare(lv, v); err == nil && r == 0 {
			return true
		}
	}
	return false
}
