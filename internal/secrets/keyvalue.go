package secrets

// A keyValue rule matches "KEY<sep>VALUE" where KEY ends with one of the
// rule's keywords. Instead of a regular expression tried at every offset of
// a line, it parses outward from the keyword hits the keyword pass already
// found, so its cost is proportional to the number of hits.

// span is one candidate secret in a line: the whole match [start, end) and
// the secret inside it.
type span struct {
	start, end             int
	secretStart, secretEnd int
	quoted                 bool
}

// maxKeyLen bounds how far back a key name is looked for.
const maxKeyLen = 64

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// valueStop ends an unquoted or quoted value. A backslash does too: in a
// string literal it starts an escape ("...\\n..."), which random secrets
// written in configuration do not need.
func valueStop(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '`', ';', ',', '\\':
		return true
	}
	return false
}

// parseKeyValue parses an assignment whose key ends at line[end]: an
// optional closing quote of the key, blanks, one of ":=", "=>", "=", ":",
// blanks, an optional opening quote and the value.
func parseKeyValue(line []byte, end int) (span, bool) {
	// The key must end here: "password_file" is not a password.
	i := end
	if i < len(line) && isKeyChar(line[i]) {
		return span{}, false
	}
	start := end
	for start > 0 && end-start < maxKeyLen && isKeyChar(line[start-1]) {
		start--
	}
	if i < len(line) && (line[i] == '"' || line[i] == '\'') {
		i++
	}
	i = skipBlanks(line, i)
	switch {
	case i+1 < len(line) && (line[i] == ':' && line[i+1] == '=' || line[i] == '=' && line[i+1] == '>'):
		i += 2
	case i < len(line) && line[i] == '=':
		if i+1 < len(line) && line[i+1] == '=' {
			return span{}, false // a comparison
		}
		i++
	case i < len(line) && line[i] == ':':
		i++
	default:
		return span{}, false
	}
	i = skipBlanks(line, i)
	var quote byte
	if i < len(line) && (line[i] == '"' || line[i] == '\'' || line[i] == '`') {
		quote = line[i]
		i++
	}
	v := i
	for i < len(line) && !valueStop(line[i]) {
		i++
	}
	if i == v {
		return span{}, false
	}
	sp := span{start: start, end: i, secretStart: v, secretEnd: i}
	if quote != 0 {
		// A quoted value must end with its quote: otherwise it is the
		// first word of a sentence, not a literal.
		if i >= len(line) || line[i] != quote {
			return span{}, false
		}
		sp.quoted = true
		sp.end = i + 1
	}
	return sp, true
}

func skipBlanks(line []byte, i int) int {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i
}
