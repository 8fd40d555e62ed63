package result

import "bytes"

// listsGap is what encoding/json writes for a Report whose Packages and
// Vulnerabilities are nil.
const listsGap = `"packages":null,"vulnerabilities":null`

// SplitAroundLists cuts the compact JSON of a Report marshalled with nil
// Packages and Vulnerabilities around those two members: a large report
// is then written as head, the two arrays an element at a time, tail,
// without marshalling it whole (the JSON report writer, the publish
// client). ok is false if the members are not found at the top level.
func SplitAroundLists(compact []byte) (head, tail []byte, ok bool) {
	at := topLevelIndex(compact, listsGap)
	if at < 0 {
		return nil, nil, false
	}
	return compact[:at], compact[at+len(listsGap):], true
}

// topLevelIndex returns the offset of sub in the compact JSON object doc
// where it starts a member of the top-level object, or -1.
func topLevelIndex(doc []byte, sub string) int {
	depth := 0
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '"':
			if depth == 1 && (doc[i-1] == '{' || doc[i-1] == ',') && bytes.HasPrefix(doc[i:], []byte(sub)) {
				return i
			}
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return -1
}
