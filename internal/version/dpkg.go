package version

// Dpkg orders Debian and Ubuntu versions ([epoch:]upstream[-revision]) with
// dpkg's verrevcmp. Hand-written: it is short, allocation-free, and lets us
// reject what dpkg rejects (scalibr accepts any string).
type Dpkg struct{}

// parseDpkg splits and checks a dpkg version; its version field is what
// dpkg calls the upstream version, its release the Debian revision.
func parseDpkg(s string) (evr, error) {
	var v evr
	var err error
	if v.epoch, v.version, v.release, err = splitEVR("dpkg", s, "revision"); err != nil {
		return v, err
	}
	if v.version == "" {
		return v, invalid("dpkg", s, "empty upstream version")
	}
	if !isDigit(v.version[0]) {
		return v, invalid("dpkg", s, "upstream version does not start with a digit")
	}
	// dpkg only warns about other odd characters ("_" in a revision) and
	// still orders them, so only whitespace and control bytes are refused.
	for _, part := range []string{v.version, v.release} {
		for i := 0; i < len(part); i++ {
			if c := part[i]; c <= ' ' || c >= 0x7f {
				return v, invalid("dpkg", s, "whitespace or non-ASCII character")
			}
		}
	}
	return v, nil
}

func isAlnum(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

// dpkgOrder is dpkg's order(): ~ sorts before everything, even the end of
// the string; letters before non-letters.
func dpkgOrder(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return int(c)
	case c == '~':
		return -1
	case c != 0:
		return int(c) + 256
	}
	return 0
}

func verrevcmp(a, b string) int {
	i, j := 0, 0
	at := func(s string, k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := dpkgOrder(at(a, i)), dpkgOrder(at(b, j))
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

// Compare implements Comparator.
func (Dpkg) Compare(a, b string) (int, error) {
	return compareParsed(parseDpkg, func(x, y evr) int { return compareEVR(x, y, verrevcmp) }, a, b)
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
