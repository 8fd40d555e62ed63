package version

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Maven orders Maven versions exactly like Maven's ComparableVersion
// (maven-artifact, including MNG-6964/7644/7714 behaviour). Hand-ported:
// scalibr's Maven comparator disagrees with upstream on 42 of the upstream
// vectors (".X" qualifiers, "1-0.alpha", "2.0.a" vs "2-1").
type Maven struct{}

type mvKind int

const (
	mvNumber mvKind = iota
	mvString
	mvList
	mvCombination
)

type mvItem struct {
	kind mvKind
	// num holds the digits of a number without leading zeros ("0" for zero);
	// str the qualifier of a string item.
	num, str string
	list     []*mvItem
	// A combination ("rc1", "sp-2") is a qualifier followed by a number.
	comboStr, comboNum *mvItem
}

var mvQualifiers = []string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

const mvReleaseIndex = "5"

func mvComparableQualifier(q string) string {
	switch q {
	case "ga", "final", "release":
		return mvReleaseIndex
	}
	for i, k := range mvQualifiers {
		if k == q {
			return strconv.Itoa(i)
		}
	}
	return strconv.Itoa(len(mvQualifiers)) + "-" + q
}

func newMvString(s string, followedByDigit bool) *mvItem {
	if followedByDigit && utf8.RuneCountInString(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	if s == "cr" {
		s = "rc"
	}
	return &mvItem{kind: mvString, str: s}
}

// newMvNumber parses digits, including non-ASCII decimal digits as Java's
// Integer.parseInt does.
func newMvNumber(s string) (*mvItem, bool) {
	var b strings.Builder
	for _, r := range s {
		d := unicodeDigit(r)
		if d < 0 {
			return nil, false
		}
		b.WriteByte(byte('0' + d))
	}
	n := strings.TrimLeft(b.String(), "0")
	if n == "" {
		n = "0"
	}
	return &mvItem{kind: mvNumber, num: n}, true
}

func unicodeDigit(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	if !unicode.IsDigit(r) {
		return -1
	}
	// Unicode decimal digits come in contiguous runs of ten starting at zero.
	for z := r; z > r-10; z-- {
		if !unicode.IsDigit(z - 1) {
			return int(r - z)
		}
	}
	return -1
}

func newMvCombination(s string) (*mvItem, bool) {
	idx := 0
	for i, r := range s {
		if unicode.IsDigit(r) {
			idx = i
			break
		}
	}
	num, ok := newMvNumber(s[idx:])
	if !ok {
		return nil, false
	}
	return &mvItem{kind: mvCombination, comboStr: newMvString(s[:idx], true), comboNum: num}, true
}

func (it *mvItem) isNull() bool {
	switch it.kind {
	case mvNumber:
		return it.num == "0"
	case mvString:
		return it.str == ""
	case mvList:
		return len(it.list) == 0
	}
	return false
}

// compare is ComparableVersion's Item.compareTo; other may be nil.
func (it *mvItem) compare(other *mvItem) int {
	switch it.kind {
	case mvNumber:
		if other == nil {
			if it.num == "0" {
				return 0
			}
			return 1
		}
		if other.kind == mvNumber {
			return cmpNumeric(it.num, other.num)
		}
		return 1
	case mvString:
		if other == nil {
			return strings.Compare(mvComparableQualifier(it.str), mvReleaseIndex)
		}
		switch other.kind {
		case mvNumber:
			return -1
		case mvString:
			return strings.Compare(mvComparableQualifier(it.str), mvComparableQualifier(other.str))
		case mvCombination:
			if r := it.compare(other.comboStr); r != 0 {
				return r
			}
			if it.compare(nil) == 0 {
				return -other.comboNum.compare(nil)
			}
			return -1
		}
		return -other.compare(it)
	case mvCombination:
		if other == nil {
			if r := it.comboStr.compare(nil); r != 0 {
				return r
			}
			return it.comboNum.compare(nil)
		}
		switch other.kind {
		case mvNumber:
			return -1
		case mvString:
			if r := it.comboStr.compare(other); r != 0 {
				return r
			}
			if it.comboStr.compare(nil) == 0 {
				return it.comboNum.compare(nil)
			}
			return 1
		case mvCombination:
			if r := it.comboStr.compare(other.comboStr); r != 0 {
				return r
			}
			return it.comboNum.compare(other.comboNum)
		}
		return -other.compare(it)
	}
	return it.compareList(other)
}

func (it *mvItem) compareList(other *mvItem) int {
	if other == nil {
		for _, x := range it.list {
			if r := x.compare(nil); r != 0 {
				return r
			}
		}
		return 0
	}
	switch other.kind {
	case mvNumber:
		return -1
	case mvString, mvCombination:
		var r int
		if len(it.list) == 0 {
			r = -other.compare(nil)
		} else {
			r = it.list[0].compare(other)
		}
		for i := 1; r == 0 && i < len(it.list); i++ {
			r = it.list[i].compare(nil)
		}
		return r
	}
	for i := 0; i < len(it.list) || i < len(other.list); i++ {
		var r int
		switch {
		case i >= len(it.list):
			r = -other.list[i].compare(nil)
		default:
			var o *mvItem
			if i < len(other.list) {
				o = other.list[i]
			}
			r = it.list[i].compare(o)
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

func (it *mvItem) normalize() {
	for i := len(it.list) - 1; i >= 0; i-- {
		if !it.list[i].isNull() {
			continue
		}
		last := i == len(it.list)-1
		if last || it.list[i+1].kind == mvString {
			it.list = append(it.list[:i], it.list[i+1:]...)
		} else if next := it.list[i+1]; next.kind == mvList && len(next.list) > 0 {
			if k := next.list[0].kind; k == mvCombination || k == mvString {
				it.list = append(it.list[:i], it.list[i+1:]...)
			}
		}
	}
	if len(it.list) == 1 && it.list[0].kind == mvList {
		it.list = it.list[0].list
	}
}
