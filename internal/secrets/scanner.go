package secrets

import (
	"bytes"
	"math/bits"
	"regexp"
	"sync"
	"unicode/utf8"
)

// Limits that keep one hostile file from costing much: hits beyond them are
// dropped (the first ones already say the file must be fixed).
const (
	maxHitsPerFile = 100
	maxHitsPerLine = 16
	// maxContext bounds the non-secret text shown before a redacted secret
	// (the key name of a generic credential, say).
	maxContext = 48
)

// hit is one secret found in a text. secret is the clear text, kept only
// inside this package to de-duplicate; it never leaves it.
type hit struct {
	rule    *rule
	line    int
	display string // the match with the secret part redacted
	secret  string
}

// scanner holds the compiled rule set; immutable, shared by every scan.
type scanner struct {
	kw     *keywordSet
	gcpBit uint64
	kvBits uint64 // rules parsed at their keyword hits
}

var defaultScanner = sync.OnceValue(func() *scanner {
	kws := make([][]string, len(ruleTable))
	s := &scanner{}
	for i, r := range ruleTable {
		kws[i] = r.keywords
		if r.ID == RuleGCPServiceAccount {
			s.gcpBit = 1 << i
		}
		if r.keyValue {
			s.kvBits |= 1 << i
		}
	}
	s.kw = newKeywordSet(kws)
	return s
})

// kwHitPool recycles the keyword-hit buffers of scan.
var kwHitPool = sync.Pool{New: func() any { return new([]kwHit) }}

var (
	gcpTypeRe = regexp.MustCompile(`"type"\s*:\s*"service_account"`)
	gcpKeyRe  = regexp.MustCompile(`"private_key"\s*:\s*"-----BEGIN[ A-Z]{0,16} PRIVATE KEY-----`)
)

// lineState is the line being collected by scan: its bounds in the text,
// the rules whose keywords occur in it and where key-value keywords end.
type lineState struct {
	start, end int
	mask       uint64
	kvEnds     []int  // relative to start
	spans      []span // scratch for rule.candidates
}

// scan finds the secrets in text, line by line. cfg says the text is a
// configuration file, where the generic rule also accepts unquoted values.
// The keyword pass touches every byte once; a rule's regular expression
// only runs on the lines that hold one of its keywords.
func (s *scanner) scan(text []byte, cfg bool) []hit {
	var (
		hits    []hit
		lineNo  = 1 // line number at offset counted
		counted = 0
		cur     lineState
		gcpType bool
		gcpKey  *hit
	)
	flush := func() bool {
		lineNo += bytes.Count(text[counted:cur.start], []byte{'\n'})
		counted = cur.start
		line := bytes.TrimSuffix(text[cur.start:cur.end], []byte{'\r'})
		if cur.mask&s.gcpBit != 0 {
			gcpType = gcpType || gcpTypeRe.Match(line)
			if gcpKey == nil {
				if m := gcpKeyRe.Find(line); m != nil {
					gcpKey = &hit{rule: ruleByID(RuleGCPServiceAccount), line: lineNo, display: string(m)}
				}
			}
		}
		hits = s.scanLine(hits, text, line, lineNo, &cur, cfg)
		cur.mask, cur.kvEnds = 0, cur.kvEnds[:0]
		return len(hits) < maxHitsPerFile
	}
	buf := kwHitPool.Get().(*[]kwHit)
	defer func() {
		if cap(*buf) <= 1<<16 { // do not keep the buffer of a pathological file
			kwHitPool.Put(buf)
		}
	}()
	*buf = s.kw.find(text, (*buf)[:0])
	for _, kh := range *buf {
		end, m := kh.end, kh.mask
		if cur.mask == 0 || end > cur.end {
			if cur.mask != 0 && !flush() {
				cur.mask = 0
				break
			}
			// Keywords hold no newline, so the whole keyword is on this line.
			cur.start = bytes.LastIndexByte(text[:end], '\n') + 1
			cur.end = len(text)
			if i := bytes.IndexByte(text[end:], '\n'); i >= 0 {
				cur.end = end + i
			}
		}
		cur.mask |= m
		if m&s.kvBits != 0 && len(cur.kvEnds) < maxHitsPerLine {
			cur.kvEnds = append(cur.kvEnds, end-cur.start)
		}
	}
	if cur.mask != 0 {
		flush()
	}
	if gcpType && gcpKey != nil {
		// The service-account key subsumes the PEM key it embeds.
		kept := hits[:0]
		for _, h := range hits {
			if h.line != gcpKey.line || h.rule.ID != RulePrivateKey {
				kept = append(kept, h)
			}
		}
		hits = append(kept, *gcpKey)
	}
	if len(hits) > maxHitsPerFile {
		hits = hits[:maxHitsPerFile]
	}
	return hits
}

// candidates appends the matches of rule r in line to out.
func (r *rule) candidates(line []byte, kvEnds []int, out []span) []span {
	if r.detectors != nil {
		return r.detectorCandidates(line, out)
	}
	if r.keyValue {
		for _, e := range kvEnds {
			if e > len(line) {
				continue
			}
			if sp, ok := parseKeyValue(line, e); ok {
				out = append(out, sp)
			}
		}
		return out
	}
	for _, m := range r.re.FindAllSubmatchIndex(line, maxHitsPerLine) {
		sp := span{start: m[0], end: m[1], secretStart: m[0], secretEnd: m[1]}
		if r.group > 0 {
			sp.secretStart, sp.secretEnd = m[2*r.group], m[2*r.group+1]
			if sp.secretStart < 0 {
				continue
			}
		}
		if r.quote > 0 && m[2*r.quote+1] > m[2*r.quote] {
			// A quoted value must end with its quote.
			if sp.secretEnd >= len(line) || line[sp.secretEnd] != line[m[2*r.quote]] {
				continue
			}
			sp.quoted = true
		}
		out = append(out, sp)
	}
	return out
}

// scanLine runs the rules of the line's mask, in priority order, and
// appends what they find. A secret overlapping an earlier rule's is dropped.
func (s *scanner) scanLine(hits []hit, text, line []byte, lineNo int, cur *lineState, cfg bool) []hit {
	var taken [][2]int
	overlaps := func(a, b int) bool {
		for _, sp := range taken {
			if a < sp[1] && sp[0] < b {
				return true
			}
		}
		return false
	}
	// Only the rules whose keywords are on the line, in table order.
	for m := cur.mask; m != 0; m &= m - 1 {
		r := &ruleTable[bits.TrailingZeros64(m)]
		if r.re == nil && !r.keyValue && r.detectors == nil {
			continue
		}
		cur.spans = r.candidates(line, cur.kvEnds, cur.spans[:0])
		for _, sp := range cur.spans {
			if overlaps(sp.secretStart, sp.secretEnd) {
				continue
			}
			secret := line[sp.secretStart:sp.secretEnd]
			if r.valid != nil && !r.valid(secret, line[sp.start:sp.end], sp.quoted, cfg) {
				continue
			}
			if r.keyBody {
				after := text[cur.start+sp.end:]
				if !hasKeyBody(after[:min(len(after), 256)]) {
					continue
				}
			}
			taken = append(taken, [2]int{sp.secretStart, sp.secretEnd})
			h := hit{rule: r, line: lineNo, secret: string(secret)}
			if r.group < 0 {
				h.display = printable(string(secret))
			} else {
				h.display = contextOf(line[sp.start:sp.secretStart]) + printable(Redact(string(secret)))
			}
			hits = append(hits, h)
		}
	}
	return hits
}

// contextOf is the non-secret text before a secret (a key name and its
// separator), trimmed to its last maxContext bytes and made printable. A
// long run of token characters in it that does not read as a name is
// redacted too: it may be another credential on the same line.
func contextOf(b []byte) string {
	if len(b) > maxContext {
		b = b[len(b)-maxContext:]
		for len(b) > 0 && !utf8.RuneStart(b[0]) {
			b = b[1:]
		}
	}
	var out []byte
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && (isKeyChar(b[j]) || b[j] == '+' || b[j] == '/' || b[j] == '=') {
			j++
		}
		if j-i >= 16 && !looksLikeIdentifier(b[i:j]) {
			out = append(out, Redact(string(b[i:j]))...)
		} else {
			out = append(out, b[i:j]...)
		}
		if j < len(b) {
			out = append(out, b[j])
			j++
		}
		i = j
	}
	return printable(string(out))
}

// printable replaces control characters and invalid UTF-8, so a match can
// not mangle a terminal or a report.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\t' {
			r = ' '
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}
