package version

import "strings"

// RPM orders [epoch:]version[-release] strings with rpm's rpmvercmp,
// including "~" (sorts before anything, even the end) and "^" (sorts after
// the end but before anything else). Hand-written because scalibr's Red Hat
// comparator accepts any string and we must reject what rpm cannot order.
type RPM struct{}

func parseRPM(s string) (evr, error) {
	var v evr
	var err error
	if v.epoch, v.version, v.release, err = splitEVR("rpm", s, "release"); err != nil {
		return v, err
	}
	if v.version == "" {
		return v, invalid("rpm", s, "empty version")
	}
	for _, part := range []string{v.version, v.release} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c <= ' ' || c >= 0x7f || c == ':' || c == '-' {
				return v, invalid("rpm", s, "invalid character")
			}
		}
	}
	return v, nil
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// rpmvercmp compares one version or release field the way rpm does.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ca, cb := byteAt(a, i), byteAt(b, j)
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			switch {
			case i >= len(a):
				return -1
			case j >= len(b):
				return 1
			case ca != '^':
				return 1
			case cb != '^':
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		isNum := isDigit(a[i])
		class := isAlpha
		if isNum {
			class = isDigit
		}
		for i < len(a) && class(a[i]) {
			i++
		}
		for j < len(b) && class(b[j]) {
			j++
		}
		if sj == j {
			// Segments of different types: numeric is newer than alpha.
			if isNum {
				return 1
			}
			return -1
		}
		segA, segB := a[si:i], b[sj:j]
		var r int
		if isNum {
			r = cmpNumeric(segA, segB)
		} else {
			r = strings.Compare(segA, segB)
		}
		if r != 0 {
			return r
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// Compare implements Comparator.
func (RPM) Compare(a, b string) (int, error) {
	return compareParsed(parseRPM, func(x, y evr) int { return compareEVR(x, y, rpmvercmp) }, a, b)
}
