package version

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseMaven is ComparableVersion.parseVersion.
func parseMaven(version string) (*mvItem, error) {
	if strings.TrimSpace(version) == "" {
		return nil, invalid("Maven", version, "empty")
	}
	if len(version) > maxVersionLen {
		return nil, invalid("Maven", version, "too long")
	}
	v := strings.ToLower(version)
	root := &mvItem{kind: mvList}
	list := root
	stack := []*mvItem{root}
	push := func() {
		l := &mvItem{kind: mvList}
		list.list = append(list.list, l)
		list = l
		stack = append(stack, l)
	}
	isDigit, isCombination := false, false
	start := 0
	var perr error
	add := func(combo, digit bool, buf string) {
		it, ok := mvParseItem(combo, digit, buf)
		if !ok {
			perr = invalid("Maven", version, "malformed number")
			return
		}
		list.list = append(list.list, it)
	}
	for i, c := range v {
		switch {
		case c == '.':
			if i == start {
				list.list = append(list.list, &mvItem{kind: mvNumber, num: "0"})
			} else {
				add(isCombination, isDigit, v[start:i])
			}
			isCombination = false
			start = i + 1
		case c == '-':
			if i == start {
				list.list = append(list.list, &mvItem{kind: mvNumber, num: "0"})
			} else {
				// "X-1" is treated as "X1".
				if next, _ := utf8.DecodeRuneInString(v[i+1:]); !isDigit && i != len(v)-1 && unicode.IsDigit(next) {
					isCombination = true
					continue
				}
				add(isCombination, isDigit, v[start:i])
			}
			start = i + 1
			if len(list.list) > 0 {
				push()
			}
			isCombination = false
		case c >= '0' && c <= '9':
			if !isDigit && i > start {
				isCombination = true
				if len(list.list) > 0 {
					push()
				}
			}
			isDigit = true
		default:
			if isDigit && i > start {
				add(isCombination, true, v[start:i])
				start = i
				push()
				isCombination = false
			}
			isDigit = false
		}
	}
	if len(v) > start {
		// 1.0.0.X1 < 1.0.0-X2: treat ".X" as "-X" for any qualifier X.
		if !isDigit && len(list.list) > 0 {
			push()
		}
		add(isCombination, isDigit, v[start:])
	}
	if perr != nil {
		return nil, perr
	}
	for i := len(stack) - 1; i >= 0; i-- {
		stack[i].normalize()
	}
	return root, nil
}

func mvParseItem(combo, digit bool, buf string) (*mvItem, bool) {
	switch {
	case combo:
		return newMvCombination(strings.ReplaceAll(buf, "-", ""))
	case digit:
		return newMvNumber(buf)
	}
	return newMvString(buf, false), true
}

// Compare implements Comparator.
func (Maven) Compare(a, b string) (int, error) {
	return compareParsed(parseMaven, func(x, y *mvItem) int { return sign(x.compare(y)) }, a, b)
}
