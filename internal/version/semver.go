package version

import "strings"

// SemVer orders Semantic Versioning 2.0 versions (crates.io, Hex, OSV
// SEMVER ranges). With Loose it follows node-semver's {loose: true} parser
// as npm does: "v"/"=" prefixes, leading zeros, and a missing "-" before
// the pre-release ("1.2.3foo" = "1.2.3-foo") are accepted. Build metadata is
// ignored for ordering. Hand-written: scalibr's semver parser accepts any
// string, and no Go library implements node-semver's loose grammar.
type SemVer struct {
	Loose bool
}

type semVersion struct {
	core [3]string
	pre  []string
}

func (c SemVer) kind() string {
	if c.Loose {
		return "npm semver"
	}
	return "semver"
}

func (c SemVer) parse(s string) (semVersion, error) {
	var v semVersion
	orig := s
	if len(s) > maxVersionLen {
		return v, invalid(c.kind(), orig, "too long")
	}
	if c.Loose {
		s = strings.TrimSpace(s)
		s = strings.TrimLeft(s, "v= \t")
	} else {
		s = strings.TrimPrefix(s, "v")
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if !validIdents(s[i+1:], false) {
			return v, invalid(c.kind(), orig, "bad build metadata")
		}
		s = s[:i]
	}
	for k := range 3 {
		j := 0
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == 0 {
			return v, invalid(c.kind(), orig, "want MAJOR.MINOR.PATCH")
		}
		if !c.Loose && j > 1 && s[0] == '0' {
			return v, invalid(c.kind(), orig, "leading zero")
		}
		v.core[k] = s[:j]
		s = s[j:]
		if k < 2 {
			if s == "" || s[0] != '.' {
				return v, invalid(c.kind(), orig, "want MAJOR.MINOR.PATCH")
			}
			s = s[1:]
		}
	}
	if s == "" {
		return v, nil
	}
	if s[0] == '-' {
		s = s[1:]
	} else if !c.Loose {
		return v, invalid(c.kind(), orig, "unexpected text after MAJOR.MINOR.PATCH")
	}
	if !validIdents(s, !c.Loose) {
		return v, invalid(c.kind(), orig, "bad pre-release")
	}
	v.pre = strings.Split(s, ".")
	return v, nil
}

// validIdents checks dot-separated [0-9A-Za-z-]+ identifiers; strictNum
// rejects numeric identifiers with leading zeros (SemVer pre-release rule).
func validIdents(s string, strictNum bool) bool {
	if s == "" {
		return false
	}
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return false
		}
		numeric := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !isAlnum(c) && c != '-' {
				return false
			}
			if !isDigit(c) {
				numeric = false
			}
		}
		if strictNum && numeric && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func isNumericIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func comparePre(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		na, nb := isNumericIdent(a[i]), isNumericIdent(b[i])
		var r int
		switch {
		case na && nb:
			r = cmpNumeric(a[i], b[i])
		case na:
			r = -1
		case nb:
			r = 1
		default:
			r = strings.Compare(a[i], b[i])
		}
		if r != 0 {
			return r
		}
	}
	return sign(len(a) - len(b))
}

// Compare implements Comparator.
func (c SemVer) Compare(a, b string) (int, error) {
	va, err := c.parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := c.parse(b)
	if err != nil {
		return 0, err
	}
	for k := range 3 {
		if r := cmpNumeric(va.core[k], vb.core[k]); r != 0 {
			return r, nil
		}
	}
	return comparePre(va.pre, vb.pre), nil
}
