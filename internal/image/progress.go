package image

import "sync/atomic"

// Progress is what a running read has done so far, as atomic counters the
// walk bumps and a display samples on its own ticker: the walk never
// waits for a display, and a counter bump is one atomic add per MiB
// read, not per tar entry or per byte. Nil means no progress
// is kept.
type Progress struct {
	LayersTotal atomic.Int64 // layers to read (cached ones included)
	LayersDone  atomic.Int64 // layers read or loaded from the cache
	Bytes       atomic.Int64 // uncompressed layer bytes read
	Packages    atomic.Int64 // packages found in the layers done
	// OnLayer, when set, is called once per finished layer (for a plain
	// log line per step); it runs on the walking goroutine, so it must be
	// quick.
	OnLayer func(index int, diffID string, bytes int64, packages int, cached bool)
}

func (p *Progress) layerDone(index int, diffID string, bytes int64, packages int, cached bool) {
	if p == nil {
		return
	}
	p.LayersDone.Add(1)
	p.Packages.Add(int64(packages))
	if p.OnLayer != nil {
		p.OnLayer(index, diffID, bytes, packages, cached)
	}
}
