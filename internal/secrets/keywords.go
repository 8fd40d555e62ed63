package secrets

import (
	"bytes"
	"sync"
)

// keywordSet finds, in one pass over a text, which rules' keywords occur,
// ASCII case-insensitively. It is an Aho-Corasick automaton compiled to a
// DFA over byte classes: every byte costs two table loads, whatever the
// number of keywords, which is what keeps non-matching text fast.
//
// A keywordSet is immutable once built and safe for concurrent use.
type keywordSet struct {
	class  [256]uint8 // byte -> class; 0 is "in no keyword"
	nclass int
	// delta maps state offset + class to the next state offset, where a
	// state's offset is its number times nclass (saving a multiplication
	// in the loop). States are numbered so that those where a keyword ends
	// come last, from outStart on: one comparison tells a hit.
	delta    []uint32
	outStart int
	out      []uint64 // state number -> bitmask of rule indexes whose keyword ends there
}

// maxRules bounds the rule table: outputs are a uint64 bitmask.
const maxRules = 64

// newKeywordSet builds the automaton. keywords[i] lists the keywords of rule
// i; they are matched case-insensitively (ASCII only).
func newKeywordSet(keywords [][]string) *keywordSet {
	if len(keywords) > maxRules {
		panic("secrets: more than 64 rules")
	}
	k := &keywordSet{}
	// Byte classes: one per distinct (lower-cased) byte in any keyword.
	for _, kws := range keywords {
		for _, kw := range kws {
			for i := 0; i < len(kw); i++ {
				c := lower(kw[i])
				if k.class[c] == 0 {
					k.nclass++
					k.class[c] = uint8(k.nclass)
					if c >= 'a' && c <= 'z' {
						k.class[c-'a'+'A'] = uint8(k.nclass)
					}
				}
			}
		}
	}
	k.nclass++ // class 0

	// The trie, in a sparse form first.
	type node struct {
		next map[uint8]int
		fail int
		out  uint64
	}
	nodes := []node{{next: map[uint8]int{}}}
	for rule, kws := range keywords {
		for _, kw := range kws {
			s := 0
			for i := 0; i < len(kw); i++ {
				c := k.class[lower(kw[i])]
				n, ok := nodes[s].next[c]
				if !ok {
					n = len(nodes)
					nodes = append(nodes, node{next: map[uint8]int{}})
					nodes[s].next[c] = n
				}
				s = n
			}
			nodes[s].out |= 1 << rule
		}
	}
	if len(nodes) > 1<<16 {
		panic("secrets: keyword automaton too large")
	}

	// Breadth-first: failure links and outputs, then the dense table.
	next := make([]int, len(nodes)*k.nclass) // by old state number
	outs := make([]uint64, len(nodes))
	queue := []int{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = nodes[s].out | outs[nodes[s].fail]
		for c := 0; c < k.nclass; c++ {
			n, ok := nodes[s].next[uint8(c)]
			switch {
			case ok:
				if s != 0 {
					nodes[n].fail = next[nodes[s].fail*k.nclass+c]
				}
				next[s*k.nclass+c] = n
				queue = append(queue, n)
			case s != 0:
				next[s*k.nclass+c] = next[nodes[s].fail*k.nclass+c]
			}
		}
	}
	// Renumber: states without output first (the root stays 0).
	renum := make([]int, len(nodes))
	id := 0
	for pass := 0; pass < 2; pass++ {
		if pass == 1 {
			k.outStart = id * k.nclass
		}
		for s := range nodes {
			if (outs[s] != 0) == (pass == 1) {
				renum[s] = id
				id++
			}
		}
	}
	k.delta = make([]uint32, len(nodes)*k.nclass)
	k.out = make([]uint64, len(nodes))
	for s := range nodes {
		k.out[renum[s]] = outs[s]
		for c := 0; c < k.nclass; c++ {
			k.delta[renum[s]*k.nclass+c] = uint32(renum[next[s*k.nclass+c]] * k.nclass)
		}
	}
	return k
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// kwHit is a position where keywords end: end is the index just past
// them, mask the rules they belong to.
type kwHit struct {
	end  int
	mask uint64
}

// lanes is how many parts of a text find walks at once. One DFA walk is
// bound by the latency of its table load (each step needs the previous
// state); independent walks over separate parts overlap those latencies.
const lanes = 4

// find appends to hits every position where keywords end, in order.
func (k *keywordSet) find(b []byte, hits []kwHit) []kwHit {
	if len(b) < 4096 {
		return k.findFrom(b, 0, 0, hits)
	}
	// Split at line starts: keywords hold no newline, so none spans lanes.
	var bounds [lanes + 1]int
	bounds[lanes] = len(b)
	for j := 1; j < lanes; j++ {
		p := max(len(b)*j/lanes, bounds[j-1])
		if i := bytes.IndexByte(b[p:], '\n'); i >= 0 {
			p += i + 1
		} else {
			p = len(b)
		}
		bounds[j] = p
	}
	l0, l1, l2, l3 := b[bounds[0]:bounds[1]], b[bounds[1]:bounds[2]], b[bounds[2]:bounds[3]], b[bounds[3]:bounds[4]]
	n := min(len(l0), len(l1), len(l2), len(l3))
	var s0, s1, s2, s3 int
	lh := laneHitPool.Get().(*[3][]kwHit)
	defer laneHitPool.Put(lh)
	h1, h2, h3 := lh[0][:0], lh[1][:0], lh[2][:0]
	defer func() { lh[0], lh[1], lh[2] = h1[:0], h2[:0], h3[:0] }()
	delta, class, outStart := k.delta, &k.class, k.outStart
	if n > 0 {
		l0, l1, l2, l3 := l0[:n], l1[:n], l2[:n], l3[:n]
		for i := range l0 {
			s0 = int(delta[s0+int(class[l0[i]])])
			s1 = int(delta[s1+int(class[l1[i]])])
			s2 = int(delta[s2+int(class[l2[i]])])
			s3 = int(delta[s3+int(class[l3[i]])])
			if s0|s1|s2|s3 >= outStart { // cheap pre-test: some lane may have a hit
				if s0 >= outStart {
					hits = append(hits, kwHit{bounds[0] + i + 1, k.out[s0/k.nclass]})
				}
				if s1 >= outStart {
					h1 = append(h1, kwHit{bounds[1] + i + 1, k.out[s1/k.nclass]})
				}
				if s2 >= outStart {
					h2 = append(h2, kwHit{bounds[2] + i + 1, k.out[s2/k.nclass]})
				}
				if s3 >= outStart {
					h3 = append(h3, kwHit{bounds[3] + i + 1, k.out[s3/k.nclass]})
				}
			}
		}
	}
	hits = k.findFrom(l0[n:], bounds[0]+n, s0, hits)
	hits = append(hits, h1...)
	hits = k.findFrom(l1[n:], bounds[1]+n, s1, hits)
	hits = append(hits, h2...)
	hits = k.findFrom(l2[n:], bounds[2]+n, s2, hits)
	hits = append(hits, h3...)
	return k.findFrom(l3[n:], bounds[3]+n, s3, hits)
}

// laneHitPool recycles the per-lane hit buffers of find.
var laneHitPool = sync.Pool{New: func() any { return new([3][]kwHit) }}

// findFrom continues a walk in state s over b, which starts at offset off.
func (k *keywordSet) findFrom(b []byte, off, s int, hits []kwHit) []kwHit {
	delta, class, outStart := k.delta, &k.class, k.outStart
	for i, c := range b {
		s = int(delta[s+int(class[c])])
		if s >= outStart {
			hits = append(hits, kwHit{off + i + 1, k.out[s/k.nclass]})
		}
	}
	return hits
}
