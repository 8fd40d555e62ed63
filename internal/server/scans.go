package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigil-scan/vigil/internal/publish"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/urlcred"
)

// publishScan takes `vigil publish` payloads (docs/publish.md). The same
// Idempotency-Key stores the run once; a retry gets the same answer.
func (s *Server) publishScan(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !s.limiter.allow("ingest:"+p.Tenant, s.opts.Now()) {
		w.Header().Set("Retry-After", "1")
		writeError(w, 429, "too many uploads; retry later")
		return
	}
	ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])
	if ct != publish.MediaType && ct != "application/json" {
		writeError(w, 415, "content type "+ct+": want "+publish.MediaType)
		return
	}
	if r.ContentLength > s.opts.MaxBody {
		// Refused before the body is read: a client that waits for
		// 100 Continue (vigil publish does) never sends it.
		s.tooLarge(w)
		return
	}
	pl, err := decodeScanBody(r.Body, r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.tooLarge(w)
			return
		}
		writeError(w, 400, "invalid payload: "+err.Error())
		return
	}
	if pl.Version != publish.WireVersion {
		writeError(w, 400, `version: want "1"`)
		return
	}
	if pl.Head == nil {
		writeError(w, 400, "report is required")
		return
	}
	// Any client can post (an older vigil, curl): nothing it sent in
	// clear, a config secret or a credential in a CI URL, is stored (the
	// report was redacted as it was decoded).
	pl.Trace.RunURL, pl.Trace.RepositoryURL = urlcred.Redact(pl.Trace.RunURL), urlcred.Redact(pl.Trace.RepositoryURL)
	if pl.Image.Digest != "" && !digestRE.MatchString(pl.Image.Digest) {
		writeError(w, 400, "image.digest: want sha256:<64 hex>")
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" {
		key = pl.payload().IdempotencyKey()
	}
	if len(key) > 200 {
		writeError(w, 400, "Idempotency-Key too long")
		return
	}
	repo := ""
	if ref, err := name.ParseReference(pl.Image.Name); err == nil {
		repo = ref.Context().RepositoryStr()
	} else if pl.Image.Digest != "" {
		writeError(w, 400, "image.name: "+err.Error())
		return
	}
	t := pl.Trace
	runID, imageID, dup, err := s.st.RecordCIRun(r.Context(), p.TenantID, store.CIRunInput{
		IdempotencyKey: key, Digest: pl.Image.Digest, ImageName: pl.Image.Name, Repository: repo,
		Provider: t.Provider, Workflow: t.Workflow, RunID: t.RunID, RunURL: t.RunURL, SourceRepo: t.Repository,
		SourceRepoURL: t.RepositoryURL, Commit: t.Commit, Ref: t.Ref, Report: pl.ReportJSON})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// Stored: the findings' evaluation below need not keep it in memory.
	pl.ReportJSON = ""
	if imageID != 0 {
		// An image only CI knows: its findings are the published ones
		// until a registry event brings it into a registry.
		var built time.Time
		if pl.Head.DB != nil {
			built = pl.Head.DB.Built
		}
		if err := s.applyCI(r.Context(), store.Evaluation{ImageID: imageID, Kind: "ci", DBBuilt: built, Findings: pl.Findings}); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	status := 201
	if dup {
		status = 200
	}
	url := ""
	if pl.Image.Digest != "" {
		url = "/api/v1/images/" + pl.Image.Digest
	}
	writeJSON(w, status, publish.Receipt{ID: runID, URL: url})
}

// tooLarge answers 413 saying what the server accepts and what raises it.
func (s *Server) tooLarge(w http.ResponseWriter) {
	writeError(w, 413, fmt.Sprintf("report too large: this server accepts at most %s per request; raise its --max-body (config server.max_body)", mib(s.opts.MaxBody)))
}

// mib formats a byte count in MiB (or bytes below 1 MiB).
func mib(n int64) string {
	if n < 1<<20 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
}

// applyCI records the findings a CI run published for an image only CI
// knows, and queues the outbound notifications of those it opened, as
// scans do (a failed notification insert is logged: the findings are
// stored, and a retried publish opens nothing new).
func (s *Server) applyCI(ctx context.Context, ev store.Evaluation) error {
	out, err := s.st.ApplyEvaluation(ctx, ev)
	if err != nil || s.q == nil {
		return err
	}
	if err := s.q.NotifyOpened(ctx, ev.ImageID, out.Opened); err != nil {
		s.log.Error("queueing notifications of new findings", "image_id", ev.ImageID, "err", err)
	}
	return nil
}
