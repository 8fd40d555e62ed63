package policy

import (
	"encoding/binary"
	"strings"
	"time"
)

// vexSource is the document statements came from.
type vexSource struct {
	path string
	// time is the document's timestamp, for statements without their own.
	time time.Time
}

// vexStatement is a statement as a Policy keeps it: packed, because a VEX
// document near its 64 MiB cap holds hundreds of thousands of statements
// and only the few about a finding's vulnerabilities are ever looked at.
// The ids (for the index) stay a field; everything else is one string,
// unpacked into a vexEntry when a finding's id names the statement. About
// 150 bytes per statement instead of about 600 unpacked.
type vexStatement struct {
	src   *vexSource
	index int32
	// ids are the entry's ids, "\n"-separated.
	ids string
	// body holds the time, status, justification, reason, action and the
	// products (each ref as written, and its version when narrowed).
	body string
}

// packer writes a body: uvarints and length-prefixed strings.
type packer struct {
	b   strings.Builder
	tmp [binary.MaxVarintLen64]byte
}

func (p *packer) num(n uint64) { p.b.Write(p.tmp[:binary.PutUvarint(p.tmp[:], n)]) }

func (p *packer) str(s string) {
	p.num(uint64(len(s)))
	p.b.WriteString(s)
}

func (p *packer) refs(rs []vexRef) {
	p.num(uint64(len(rs)))
	for _, r := range rs {
		p.str(r.raw)
		if r.narrowed {
			p.num(1)
			p.str(r.purl.version)
		} else {
			p.num(0)
		}
	}
}

// pack encodes an entry; a zero time stands for the document's.
func pack(src *vexSource, e *vexEntry) vexStatement {
	var p packer
	size := 32 + len(e.status) + len(e.justification) + len(e.reason) + len(e.action)
	for _, pr := range e.products {
		for _, r := range pr.refs {
			size += 4 + len(r.raw) + len(r.purl.version)
		}
		for _, r := range pr.subs {
			size += 4 + len(r.raw) + len(r.purl.version)
		}
		for _, h := range pr.hashes {
			size += 2 + len(h)
		}
	}
	p.b.Grow(size)
	if e.time.IsZero() {
		p.num(0)
	} else {
		p.num(1)
		p.num(uint64(e.time.Unix()))
		p.num(uint64(e.time.Nanosecond()))
	}
	p.str(e.status)
	p.str(e.justification)
	p.str(e.reason)
	p.str(e.action)
	p.num(uint64(len(e.products)))
	for _, pr := range e.products {
		p.refs(pr.refs)
		p.num(uint64(len(pr.hashes)))
		for _, h := range pr.hashes {
			p.str(h)
		}
		p.refs(pr.subs)
	}
	return vexStatement{src: src, index: int32(e.index), ids: strings.Join(e.ids, "\n"), body: p.b.String()}
}

// unpacker reads what a packer wrote (always well formed: never from input).
type unpacker struct{ b string }

func (u *unpacker) num() uint64 {
	var n uint64
	for shift := 0; ; shift += 7 {
		c := u.b[0]
		u.b = u.b[1:]
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return n
		}
	}
}

func (u *unpacker) str() string {
	n := u.num()
	s := u.b[:n]
	u.b = u.b[n:]
	return s
}

func (u *unpacker) refs() []vexRef {
	n := u.num()
	if n == 0 {
		return nil
	}
	out := make([]vexRef, n)
	for i := range out {
		r := newVEXRef(u.str())
		if u.num() == 1 {
			r.purl.version, r.narrowed = u.str(), true
		}
		out[i] = r
	}
	return out
}

// expand decodes the statement.
func (s *vexStatement) expand() *vexEntry {
	u := unpacker{b: s.body}
	e := &vexEntry{doc: s.src.path, index: int(s.index), ids: strings.Split(s.ids, "\n"), time: s.src.time}
	if u.num() == 1 {
		sec := int64(u.num())
		e.time = time.Unix(sec, int64(u.num()))
	}
	e.status, e.justification, e.reason, e.action = u.str(), u.str(), u.str(), u.str()
	e.products = make([]vexProduct, u.num())
	for i := range e.products {
		p := &e.products[i]
		p.refs = u.refs()
		if n := u.num(); n > 0 {
			p.hashes = make([]string, n)
			for j := range p.hashes {
				p.hashes[j] = u.str()
			}
		}
		p.subs = u.refs()
	}
	return e
}
