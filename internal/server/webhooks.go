package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/store"
)

// maxWebhookBody bounds a webhook delivery; Distribution batches a few
// events per envelope, far below this.
const maxWebhookBody = 1 << 20

// maxEventsPerDelivery bounds the events of one envelope.
const maxEventsPerDelivery = 1000

var (
	digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	// repositoryRE is the distribution reference grammar's path.
	repositoryRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// manifestMediaTypes are the targets a scan is about; blob (layer, config)
// events are ignored.
var manifestMediaTypes = map[string]bool{
	"application/vnd.docker.distribution.manifest.v2+json":      true,
	"application/vnd.docker.distribution.manifest.list.v2+json": true,
	"application/vnd.docker.distribution.manifest.v1+json":      true,
	"application/vnd.docker.distribution.manifest.v1+prettyjws": true,
	"application/vnd.oci.image.manifest.v1+json":                true,
	"application/vnd.oci.image.index.v1+json":                   true,
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
	r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
	return tenant, regID, true
}

// distributionEnvelope is the CNCF Distribution notification envelope
// (media types application/vnd.docker.distribution.events.v1+json and
// v2+json share it).
type distributionEnvelope struct {
	Events []distributionEvent `json:"events"`
}

type distributionEvent struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Action    string    `json:"action"`
	Target    struct {
		MediaType  string `json:"mediaType"`
		Digest     string `json:"digest"`
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
		URL        string `json:"url"`
	} `json:"target"`
}

func (s *Server) distributionWebhook(w http.ResponseWriter, r *http.Request) {
	const format = "distribution"
	tenant, regID, ok := s.webhookAuth(w, r, format)
	if !ok {
		return
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	switch ct {
	case "application/vnd.docker.distribution.events.v1+json", "application/vnd.docker.distribution.events.v2+json", "application/json", "":
	default:
		s.metrics.webhook(format, "bad_request", 1)
		writeError(w, 415, "content type "+ct+": want application/vnd.docker.distribution.events.v2+json (or v1)")
		return
	}
	var env distributionEnvelope
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&env); err != nil {
		s.metrics.webhook(format, "bad_request", 1)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, 413, "webhook body too large")
			return
		}
		writeError(w, 400, "invalid notification envelope: "+err.Error())
		return
	}
	if len(env.Events) > maxEventsPerDelivery {
		s.metrics.webhook(format, "bad_request", 1)
		writeError(w, 413, "too many events in one delivery")
		return
	}
	var evs []store.ImageEvent
	ignored := 0
	for _, e := range env.Events {
		if !manifestMediaTypes[e.Target.MediaType] || (e.Action != "push" && e.Action != "pull" && e.Action != "delete") {
			ignored++
			continue
		}
		ev := store.ImageEvent{TenantID: tenant, RegistryID: regID, Repository: e.Target.Repository, Digest: e.Target.Digest,
			Tag: e.Target.Tag, Action: e.Action, At: e.Timestamp}
		if e.ID != "" {
			ev.Key = "distribution:" + e.ID
		}
		if msg := validateEvent(ev); msg != "" {
			s.metrics.webhook(format, "bad_request", 1)
			writeError(w, 400, msg)
			return
		}
		evs = append(evs, ev)
	}
	s.metrics.webhook(format, "ignored", ignored)
	s.ingest(w, r, format, evs)
}

// validateEvent checks an event's names before anything is stored.
func validateEvent(ev store.ImageEvent) string {
	if !repositoryRE.MatchString(ev.Repository) || len(ev.Repository) > 255 {
		return "invalid repository name " + quoteShort(ev.Repository)
	}
	if ev.Digest != "" && !digestRE.MatchString(ev.Digest) {
		return "invalid digest " + quoteShort(ev.Digest) + ": want sha256:<64 hex>"
	}
	if ev.Digest == "" && ev.Action != store.ActionDelete {
		return "event without a digest"
	}
	if ev.Tag != "" && !tagRE.MatchString(ev.Tag) {
		return "invalid tag " + quoteShort(ev.Tag)
	}
	return ""
}

func quoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// ingest records events and queues the scans they call for. A duplicate
// (redelivery, replay) changes nothing and still answers 202, so the
// registry stops retrying.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, format string, evs []store.ImageEvent) {
	res, err := s.st.RecordEvents(r.Context(), evs)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	accepted, dups, scans := 0, 0, 0
	for i, x := range res {
		if x.Duplicate {
			dups++
			continue
		}
		accepted++
		if x.Scan && s.q != nil {
			if err := s.q.EnqueueScan(r.Context(), evs[i].TenantID, x.Digest, false); err != nil {
				// The image stays pending; the scheduler re-enqueues it.
				s.log.Error("enqueueing a scan", "digest", x.Digest, "err", err)
				continue
			}
			scans++
		}
	}
	s.metrics.webhook(format, "accepted", accepted)
	s.metrics.webhook(format, "duplicate", dups)
	writeJSON(w, 202, map[string]int{"accepted": accepted, "duplicates": dups, "scans": scans})
}
