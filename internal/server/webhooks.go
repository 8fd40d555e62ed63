package server

import (
	"errors"
	"net/http"

	"github.com/vigil-scan/vigil/internal/regevent"
	"github.com/vigil-scan/vigil/internal/store"
)

// Names as the distribution reference grammar allows them (API inputs).
var (
	digestRE = regevent.DigestRE
	tagRE    = regevent.TagRE
)

func quoteShort(s string) string { return regevent.Quote(s) }

// webhook serves one registry webhook format: bearer secret of the
// registry, rate limit, bounded body, parse, validate, record, enqueue.
func (s *Server) webhook(format string, parse regevent.Parser) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant, regID, ok := s.webhookAuth(w, r, format)
		if !ok {
			return
		}
		p, err := parse(r.Body, r.Header.Get("Content-Type"))
		if err != nil {
			s.metrics.webhook(format, "bad_request", 1)
			var we *regevent.Error
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				writeError(w, 413, "webhook body too large")
			case errors.As(err, &we):
				writeError(w, we.Status, we.Msg)
			default:
				writeError(w, 400, "invalid "+format+" payload: "+err.Error())
			}
			return
		}
		evs := make([]store.ImageEvent, len(p.Events))
		for i, e := range p.Events {
			evs[i] = store.ImageEvent{TenantID: tenant, RegistryID: regID, Repository: e.Repository, Digest: e.Digest,
				Tag: e.Tag, Action: e.Action, At: e.At, Key: e.Key}
		}
		s.metrics.webhook(format, "ignored", p.Ignored)
		s.ingest(w, r, format, evs)
	}
}

// webhookAuth checks the registry id and its bearer secret, and the
// ingestion rate; it returns the tenant.
func (s *Server) webhookAuth(w http.ResponseWriter, r *http.Request, format string) (int64, string, bool) {
	regID := r.PathValue("registry")
	secret, ok := bearer(r)
	if !ok {
		s.metrics.webhook(format, "unauthorized", 1)
		writeError(w, 401, "missing bearer webhook secret")
		return 0, "", false
	}
	tenant, err := s.st.RegistryForWebhook(r.Context(), regID, secret)
	if errors.Is(err, store.ErrNotFound) {
		s.metrics.webhook(format, "unauthorized", 1)
		// Unknown registry and wrong secret look the same.
		writeError(w, 401, "unknown registry or wrong webhook secret")
		return 0, "", false
	}
	if err != nil {
		s.internal(w, r, err)
		return 0, "", false
	}
	if !s.limiter.allow("webhook:"+regID, s.opts.Now()) {
		s.metrics.webhook(format, "rate_limited", 1)
		w.Header().Set("Retry-After", "1")
		writeError(w, 429, "too many webhook deliveries; retry later")
		return 0, "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, regevent.MaxBody)
	return tenant, regID, true
}

// ingest records events and queues the scans they call for. A duplicate
// (redelivery, replay) changes nothing and still answers 202, so the
// registry stops retrying. Concurrent deliveries share one commit (intake).
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, format string, evs []store.ImageEvent) {
	if len(evs) == 0 {
		writeJSON(w, 202, map[string]int{"accepted": 0, "duplicates": 0, "scans": 0})
		return
	}
	res, err := s.intake.record(r.Context(), evs)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	accepted, dups, scans := 0, 0, 0
	for _, x := range res {
		switch {
		case x.Duplicate:
			dups++
		case x.Scan && s.q != nil:
			accepted++
			scans++
		default:
			accepted++
		}
	}
	s.metrics.webhook(format, "accepted", accepted)
	s.metrics.webhook(format, "duplicate", dups)
	writeJSON(w, 202, map[string]int{"accepted": accepted, "duplicates": dups, "scans": scans})
}
