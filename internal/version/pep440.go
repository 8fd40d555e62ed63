package version

import "strings"

// PEP440 orders Python package versions by PEP 440, as pypa/packaging's
// Version does; legacy (non-PEP 440) versions are rejected, as pip does.
// Hand-written: scalibr's comparator is correct but parses with regular
// expressions and big integers, ~40x slower, and Python packages dominate
// many inventories.
type PEP440 struct{}

type pep440 struct {
	epoch   string
	release []string
	// preKind is 0 none, 1 a, 2 b, 3 rc.
	preKind        int
	pre, post, dev string
	hasPost        bool
	hasDev         bool
	local          []string
	hasLocal       bool
}

type pepScanner struct {
	s string
	i int
}

func (p *pepScanner) digits() string {
	j := p.i
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	d := p.s[p.i:j]
	p.i = j
	return d
}

func isPepSep(c byte) bool { return c == '-' || c == '_' || c == '.' }

// keyword matches an optional separator, one of words, an optional
// separator and optional digits (default "0"); the trailing separator is
// only taken when digits follow, as the regular expression backtracks.
func (p *pepScanner) keyword(words ...string) (word, num string, ok bool) {
	i := p.i
	if i < len(p.s) && isPepSep(p.s[i]) {
		i++
	}
	for _, w := range words {
		if strings.HasPrefix(p.s[i:], w) {
			word = w
			break
		}
	}
	if word == "" {
		return "", "", false
	}
	i += len(word)
	j := i
	if j < len(p.s) && isPepSep(p.s[j]) {
		j++
	}
	if j < len(p.s) && isDigit(p.s[j]) {
		i = j
	}
	p.i = i
	num = p.digits()
	if num == "" {
		num = "0"
	}
	return word, num, true
}

func parsePEP440(orig string) (pep440, error) {
	var v pep440
	if len(orig) > maxVersionLen {
		return v, invalid("PEP 440", orig, "too long")
	}
	p := pepScanner{s: strings.ToLower(strings.TrimSpace(orig))}
	if strings.HasPrefix(p.s, "v") {
		p.i = 1
	}
	first := p.digits()
	if first == "" {
		return v, invalid("PEP 440", orig, "not a PEP 440 version")
	}
	if p.i < len(p.s) && p.s[p.i] == '!' {
		v.epoch = first
		p.i++
		if first = p.digits(); first == "" {
			return v, invalid("PEP 440", orig, "no release after epoch")
		}
	}
	v.release = append(v.release, first)
	for p.i+1 < len(p.s) && p.s[p.i] == '.' && isDigit(p.s[p.i+1]) {
		p.i++
		v.release = append(v.release, p.digits())
	}
	if w, n, ok := p.keyword("preview", "alpha", "beta", "pre", "rc", "a", "b", "c"); ok {
		v.pre = n
		switch w {
		case "alpha", "a":
			v.preKind = 1
		case "beta", "b":
			v.preKind = 2
		default:
			v.preKind = 3
		}
	}
	if p.i+1 < len(p.s) && p.s[p.i] == '-' && isDigit(p.s[p.i+1]) {
		p.i++
		v.post, v.hasPost = p.digits(), true
	} else if _, n, ok := p.keyword("post", "rev", "r"); ok {
		v.post, v.hasPost = n, true
	}
	if _, n, ok := p.keyword("dev"); ok {
		v.dev, v.hasDev = n, true
	}
	if p.i < len(p.s) && p.s[p.i] == '+' {
		v.hasLocal = true
		local := p.s[p.i+1:]
		p.i = len(p.s)
		for seg := range strings.FieldsFuncSeq(local, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
			v.local = append(v.local, seg)
		}
		if !validLocal(local) {
			return v, invalid("PEP 440", orig, "bad local version label")
		}
	}
	if p.i != len(p.s) {
		return v, invalid("PEP 440", orig, "not a PEP 440 version")
	}
	return v, nil
}

func validLocal(s string) bool {
	if s == "" || isPepSep(s[0]) || isPepSep(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPepSep(c) {
			if isPepSep(s[i-1]) {
				return false
			}
			continue
		}
		if !isDigit(c) && !isLower(c) {
			return false
		}
	}
	return true
}

// cmpOptional orders a present value against an absent one: absent sorts
// as absentRank (-1 lowest, +1 highest).
func cmpOptional(hasA, hasB bool, a, b string, absentRank int) int {
	switch {
	case !hasA && !hasB:
		return 0
	case !hasA:
		return absentRank
	case !hasB:
		return -absentRank
	}
	return cmpNumeric(a, b)
}

func (v pep440) preRank() int {
	// packaging: no pre/post but a dev release sorts before any pre.
	switch {
	case v.preKind == 0 && !v.hasPost && v.hasDev:
		return -1
	case v.preKind == 0:
		return 4
	}
	return v.preKind
}

func comparePEP440(a, b pep440) int {
	if r := cmpNumeric(orZero(a.epoch), orZero(b.epoch)); r != 0 {
		return r
	}
	for i := 0; i < len(a.release) || i < len(b.release); i++ {
		x, y := "0", "0"
		if i < len(a.release) {
			x = a.release[i]
		}
		if i < len(b.release) {
			y = b.release[i]
		}
		if r := cmpNumeric(x, y); r != 0 {
			return r
		}
	}
	if r := sign(a.preRank() - b.preRank()); r != 0 {
		return r
	}
	if a.preKind != 0 {
		if r := cmpNumeric(a.pre, b.pre); r != 0 {
			return r
		}
	}
	if r := cmpOptional(a.hasPost, b.hasPost, a.post, b.post, -1); r != 0 {
		return r
	}
	if r := cmpOptional(a.hasDev, b.hasDev, a.dev, b.dev, 1); r != 0 {
		return r
	}
	switch {
	case !a.hasLocal && !b.hasLocal:
		return 0
	case !a.hasLocal:
		return -1
	case !b.hasLocal:
		return 1
	}
	for i := 0; i < len(a.local) && i < len(b.local); i++ {
		x, y := a.local[i], b.local[i]
		nx, ny := isNumericIdent(x), isNumericIdent(y)
		var r int
		switch {
		case nx && ny:
			r = cmpNumeric(x, y)
		case nx:
			r = 1
		case ny:
			r = -1
		default:
			r = strings.Compare(x, y)
		}
		if r != 0 {
			return r
		}
	}
	return sign(len(a.local) - len(b.local))
}

// Compare implements Comparator.
func (PEP440) Compare(a, b string) (int, error) {
	return compareParsed(parsePEP440, comparePEP440, a, b)
}
