package feeds

import (
	"sync/atomic"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// Progress is what a running update has done so far, as counters the
// update bumps and a display samples on its own ticker (like
// image.Progress): the update never waits for a display. Nil means no
// progress is kept.
type Progress struct {
	FeedsTotal atomic.Int64 // feeds selected
	FeedsDone  atomic.Int64 // feeds finished, whatever their status
	Bytes      atomic.Int64 // bytes downloaded (or read from a mirror directory) for the current feed
	Records    atomic.Int64 // rows written for the current feed (advisories, affected packages, enrichments)
	current    atomic.Pointer[string]
	// OnFeed, when set, is called once per finished feed with what it
	// downloaded (for a plain log line per feed); it runs on the updating
	// goroutine, so it must be quick.
	OnFeed func(done, total int, fr FeedResult, bytes int64)
}

// Current is the name of the feed being fetched ("" between feeds).
func (p *Progress) Current() string {
	if s := p.current.Load(); s != nil {
		return *s
	}
	return ""
}

func (p *Progress) startFeed(name string) {
	if p == nil {
		return
	}
	p.Bytes.Store(0)
	p.Records.Store(0)
	p.current.Store(&name)
}

func (p *Progress) feedDone(fr FeedResult) {
	if p == nil {
		return
	}
	done := p.FeedsDone.Add(1)
	if p.OnFeed != nil {
		p.OnFeed(int(done), int(p.FeedsTotal.Load()), fr, p.Bytes.Load())
	}
}

func (p *Progress) addBytes(n int64) {
	if p != nil {
		p.Bytes.Add(n)
	}
}

// countingSink counts the records a parser writes.
type countingSink struct {
	vuln.Sink
	p *Progress
}

func (s countingSink) Vulnerability(v vuln.Vulnerability) error {
	s.p.Records.Add(1)
	return s.Sink.Vulnerability(v)
}

func (s countingSink) Affected(a vuln.Affected) error {
	s.p.Records.Add(1)
	return s.Sink.Affected(a)
}

func (s countingSink) Enrich(cve string, e vuln.Enrichment) error {
	s.p.Records.Add(1)
	return s.Sink.Enrich(cve, e)
}

// sink wraps a feed's sink to count records when progress is kept.
func (p *Progress) sink(s vuln.Sink) vuln.Sink {
	if p == nil {
		return s
	}
	return countingSink{Sink: s, p: p}
}
