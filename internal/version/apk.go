package version

import "strings"

// Apk orders Alpine (and Wolfi/Chainguard) package versions the way
// apk-tools does: {digits}{.digits}...{letter}{_suffix{digits}}...{~hash}{-rN}.
// Hand-written because scalibr's Alpine parser accepts versions apk rejects
// and orders leading-zero components differently from apk-tools 2.14+.
type Apk struct{}

type apkTokenKind int

// Token kinds in the order apk-tools requires them to appear.
const (
	apkInitialDigit apkTokenKind = iota
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkCommitHash
	apkRevisionNo
	apkEnd
	apkInvalid
)

// apk suffixes by rank; anything below apkSuffixNone sorts before the bare version.
var apkSuffixRank = map[string]int{
	"alpha": 1, "beta": 2, "pre": 3, "rc": 4,
	"cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10,
}

const apkSuffixNone = 5

type apkToken struct {
	kind   apkTokenKind
	suffix int
	value  string
}

type apkLexer struct {
	s   string
	tok apkToken
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isHex(c byte) bool   { return isDigit(c) || (c >= 'a' && c <= 'f') }

func (l *apkLexer) digits() {
	i := 0
	for i < len(l.s) && isDigit(l.s[i]) {
		i++
	}
	l.tok.value, l.s = l.s[:i], l.s[i:]
	if i == 0 {
		l.tok.kind = apkInvalid
	}
}

func (l *apkLexer) first() {
	l.tok.kind = apkInitialDigit
	l.digits()
}

func (l *apkLexer) next() {
	if l.s == "" {
		l.tok.kind = apkEnd
		return
	}
	prev := l.tok.kind
	c := l.s[0]
	switch {
	case isLower(c):
		if prev > apkDigit {
			l.tok.kind = apkInvalid
			return
		}
		l.tok = apkToken{kind: apkLetter, value: l.s[:1]}
		l.s = l.s[1:]
	case c == '.':
		if prev > apkDigit {
			l.tok.kind = apkInvalid
			return
		}
		l.s = l.s[1:]
		l.tok.kind = apkDigit
		l.digits()
	case c == '_':
		if prev > apkSuffixNo {
			l.tok.kind = apkInvalid
			return
		}
		i := 1
		for i < len(l.s) && isLower(l.s[i]) {
			i++
		}
		rank, ok := apkSuffixRank[l.s[1:i]]
		if !ok {
			l.tok.kind = apkInvalid
			return
		}
		l.tok = apkToken{kind: apkSuffix, suffix: rank, value: l.s[1:i]}
		l.s = l.s[i:]
	case isDigit(c) && prev == apkSuffix:
		l.tok.kind = apkSuffixNo
		l.digits()
	case c == '~':
		if prev >= apkCommitHash {
			l.tok.kind = apkInvalid
			return
		}
		i := 1
		for i < len(l.s) && isHex(l.s[i]) {
			i++
		}
		if i == 1 {
			l.tok.kind = apkInvalid
			return
		}
		l.tok = apkToken{kind: apkCommitHash, value: l.s[1:i]}
		l.s = l.s[i:]
	case c == '-':
		if prev >= apkRevisionNo || !strings.HasPrefix(l.s, "-r") {
			l.tok.kind = apkInvalid
			return
		}
		l.s = l.s[2:]
		l.tok.kind = apkRevisionNo
		l.digits()
	default:
		l.tok.kind = apkInvalid
	}
}

// cmpNumeric compares two digit strings by value without overflow.
func cmpNumeric(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func apkTokenCmp(a, b apkToken) int {
	switch a.kind {
	case apkDigit:
		// A leading zero makes apk compare the component as a string
		// (Gentoo rule: 1.01 < 1.1, 1.001 < 1.01).
		if a.value[0] == '0' || b.value[0] == '0' {
			return strings.Compare(a.value, b.value)
		}
		return cmpNumeric(a.value, b.value)
	case apkInitialDigit, apkSuffixNo, apkRevisionNo:
		return cmpNumeric(a.value, b.value)
	case apkLetter:
		return strings.Compare(a.value, b.value)
	case apkSuffix:
		return sign(a.suffix - b.suffix)
	}
	return strings.Compare(a.value, b.value)
}

func apkValidate(v string) error {
	if v == "" {
		return invalid("apk", v, "empty")
	}
	if len(v) > maxVersionLen {
		return invalid("apk", v, "too long")
	}
	l := apkLexer{s: v}
	for l.first(); l.tok.kind < apkEnd; l.next() {
	}
	if l.tok.kind == apkInvalid {
		return invalid("apk", v, "not {digits}{.digits}{letter}{_suffix}{~hash}{-rN}")
	}
	return nil
}

// Compare implements Comparator.
func (Apk) Compare(a, b string) (int, error) {
	for _, v := range []string{a, b} {
		if v == "" || len(v) > maxVersionLen {
			return 0, apkValidate(v)
		}
	}
	la, lb := apkLexer{s: a}, apkLexer{s: b}
	la.first()
	lb.first()
	for la.tok.kind == lb.tok.kind && la.tok.kind < apkEnd {
		if r := apkTokenCmp(la.tok, lb.tok); r != 0 {
			return r, nil
		}
		la.next()
		lb.next()
	}
	ta, tb := la.tok, lb.tok
	// Like apk, a version that turns invalid after the deciding token still
	// orders ("23_foo" > "4_beta"); one whose invalid part would decide it
	// does not.
	if ta.kind == apkInvalid {
		return 0, apkValidate(a)
	}
	if tb.kind == apkInvalid {
		return 0, apkValidate(b)
	}
	if ta.kind == tb.kind {
		return 0, nil
	}
	// Equal so far: the longer version is newer unless what follows is a
	// pre-release suffix.
	if ta.kind == apkSuffix && ta.suffix < apkSuffixNone {
		return -1, nil
	}
	if tb.kind == apkSuffix && tb.suffix < apkSuffixNone {
		return 1, nil
	}
	return sign(int(tb.kind) - int(ta.kind)), nil
}
