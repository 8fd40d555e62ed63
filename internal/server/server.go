// Package server is Vigil's HTTP service: the REST API over the store
// (registries, repositories, images, findings), registry webhooks, CI/CD
// ingestion, the vulnerability DB for `vigil db update --from`, health and
// readiness. Every /api route needs a bearer API token; every object is
// looked up within the token's tenant, so another tenant's object is a 404.
// The web UI (internal/web) is mounted at "/" through Options.UI.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/regevent"
	"github.com/vigil-scan/vigil/internal/store"
)

// Options configure the server.
type Options struct {
	Store  *store.Store
	Queue  *jobs.Queue
	DB     *jobs.CurrentDB
	Logger *slog.Logger
	// UI serves everything outside /api, /harbor, /healthz, /readyz and
	// /metrics (the web UI); nil serves a 404 there.
	UI http.Handler
	// MaxBody bounds request bodies (default 16 MiB; webhooks 1 MiB).
	MaxBody int64
	// IngestRate is the per-tenant rate limit of webhooks and CI uploads,
	// in requests per second (default 200; burst 2x).
	IngestRate float64
	// Now is the clock (tests).
	Now func() time.Time
	// Version is Vigil's version, as the Harbor scanner API reports it.
	Version string
	// HarborRegistries are the registry hosts Harbor scan requests may
	// name (host or host:port); empty allows any.
	HarborRegistries []string
}

// Server is the HTTP handler.
type Server struct {
	opts    Options
	st      *store.Store
	q       *jobs.Queue
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []string
	limiter *limiter
	metrics *metrics
	intake  *intake
	// bg counts background work the handlers started (backfills), which
	// runs with bgCtx until Stop.
	bg     sync.WaitGroup
	bgCtx  context.Context
	bgStop context.CancelFunc
}

// New builds the server and its routes.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 16 << 20
	}
	if opts.IngestRate <= 0 {
		opts.IngestRate = 200
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, st: opts.Store, q: opts.Queue, log: opts.Logger, mux: http.NewServeMux(),
		limiter: newLimiter(opts.IngestRate), metrics: newMetrics()}
	s.intake = &intake{st: opts.Store, q: opts.Queue, log: opts.Logger}
	s.bgCtx, s.bgStop = context.WithCancel(context.Background())
	s.register()
	return s
}

// Routes lists every registered route pattern ("METHOD /path").
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.HandleFunc(pattern, h)
}

func (s *Server) register() {
	s.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	s.handle("GET /readyz", s.readyz)
	s.handle("GET /metrics", s.serveMetrics)
	s.handle("GET /api/openapi.json", s.serveOpenAPI)

	s.handle("POST /api/v1/registries", s.auth(store.ScopeAdmin, s.createRegistry))
	s.handle("GET /api/v1/registries", s.auth(store.ScopeRead, s.listRegistries))
	s.handle("GET /api/v1/registries/{id}", s.auth(store.ScopeRead, s.getRegistry))
	s.handle("DELETE /api/v1/registries/{id}", s.auth(store.ScopeAdmin, s.deleteRegistry))
	s.handle("POST /api/v1/registries/{id}/backfill", s.auth(store.ScopeAdmin, s.backfillRegistry))
	s.handle("GET /api/v1/repositories", s.auth(store.ScopeRead, s.listRepositories))
	s.handle("GET /api/v1/images", s.auth(store.ScopeRead, s.listImages))
	s.handle("GET /api/v1/images/{digest}", s.auth(store.ScopeRead, s.getImage))
	s.handle("GET /api/v1/images/{digest}/findings", s.auth(store.ScopeRead, s.imageFindings))
	s.handle("GET /api/v1/findings", s.auth(store.ScopeRead, s.listFindings))
	s.handle("GET /api/v1/summary", s.auth(store.ScopeRead, s.summary))
	s.handle("GET /api/v1/jobs/failed", s.auth(store.ScopeAdmin, s.failedJobs))
	s.handle("GET /api/v1/audit", s.auth(store.ScopeAdmin, s.auditLog))

	s.handle("POST /api/v1/clusters/{name}/running", s.auth(store.ScopeIngest, s.runningImages))
	s.handle("GET /api/v1/recommendations", s.auth(store.ScopeRead, s.recommendations))
	s.handle("GET /api/v1/findings/export", s.auth(store.ScopeRead, s.exportFindings))
	s.handle("POST /api/v1/notifications", s.auth(store.ScopeAdmin, s.createNotification))
	s.handle("GET /api/v1/notifications", s.auth(store.ScopeAdmin, s.listNotifications))
	s.handle("GET /api/v1/gate", s.auth(store.ScopeRead, s.gate))
	s.handle("PUT /api/v1/policy", s.auth(store.ScopeAdmin, s.putPolicy))
	s.handle("GET /api/v1/policy", s.auth(store.ScopeRead, s.getPolicy))
	s.handle("POST /api/v1/scans", s.auth(store.ScopeIngest, s.publishScan))
	s.handle("POST /api/v1/ingest/azure/v2/track", s.azureTrack)
	s.handle("POST /api/v1/ingest/azure/v2.1/track", s.azureTrack)
	s.handle("POST /api/v1/webhooks/distribution/{registry}", s.webhook("distribution", regevent.Distribution))
	s.handle("POST /api/v1/webhooks/harbor/{registry}", s.webhook("harbor", regevent.Harbor))
	s.handle("POST /api/v1/webhooks/acr/{registry}", s.webhook("acr", regevent.ACR))

	s.handle("GET /api/v1/db", s.auth(store.ScopeRead, s.dbInfo))
	s.handle("POST /api/v1/db/refresh", s.auth(store.ScopeAdmin, s.dbRefresh))
	s.handle("GET /api/v1/db/metadata", s.dbMetadata)
	s.handle("GET /api/v1/db/vigil.db", s.dbFile)

	s.registerHarbor()
}

// ServeHTTP routes /api, health and metrics here and the rest to the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if s.opts.UI != nil && !strings.HasPrefix(p, "/api/") && !strings.HasPrefix(p, "/harbor/") &&
		p != "/healthz" && p != "/readyz" && p != "/metrics" {
		s.opts.UI.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(p, "/api/v1/ingest/azure/") && strings.Contains(p, "//") {
		// Application Insights SDKs append "/v2/track" to the connection
		// string's IngestionEndpoint, which often ends in "/"; the mux
		// would answer a redirect the SDK does not follow.
		r.URL.Path, r.URL.RawPath = path.Clean(p), ""
	}
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	s.mux.ServeHTTP(rec, r)
	s.metrics.request(r.Pattern, rec.status, time.Since(start))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Wait waits for background work the handlers started (backfills).
func (s *Server) Wait() { s.bg.Wait() }

// Stop cancels the background work the handlers started and waits for it
// to end: a backfill in progress stops (a large or unresponsive registry
// would otherwise hold a shutdown for hours) and records that it was
// interrupted.
func (s *Server) Stop() {
	s.bgStop()
	s.bg.Wait()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.st.Ping(r.Context()); err != nil {
		writeError(w, 503, "database unavailable")
		return
	}
	if s.opts.DB == nil || !s.opts.DB.Ready() {
		writeError(w, 503, "no vulnerability DB yet: it is being built from the feeds")
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

type principalKey struct{}

// principal is the authenticated caller of an /api handler.
func principal(r *http.Request) store.Principal {
	p, _ := r.Context().Value(principalKey{}).(store.Principal)
	return p
}

// auth requires a bearer token of at least scope need: no or an unknown
// token is 401, a weaker scope 403.
func (s *Server) auth(need store.Scope, h http.HandlerFunc) http.HandlerFunc {
	return s.authWith(need, writeError, h)
}

// authWith is auth with the error bodies of fail (APIs with their own
// error format, such as Harbor's).
func (s *Server) authWith(need store.Scope, fail func(w http.ResponseWriter, status int, msg string), h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			fail(w, 401, "missing bearer token")
			return
		}
		p, err := s.st.Authenticate(r.Context(), tok)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil", error="invalid_token"`)
			fail(w, 401, "invalid token")
			return
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
				fail(w, 500, "internal error")
			}
			return
		}
		if !p.Scope.Allows(need) {
			fail(w, 403, "this token's scope ("+string(p.Scope)+") does not allow this; need "+string(need))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "bearer ")
	}
	tok = strings.TrimSpace(tok)
	return tok, ok && tok != ""
}

// apiError is every error body: {"error": "..."}.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, 500, "internal error")
}

// storeError maps store errors to statuses.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, 404, "not found")
	case errors.Is(err, store.ErrConflict):
		writeError(w, 409, err.Error())
	case errors.Is(err, store.ErrBadPageToken):
		writeError(w, 400, err.Error())
	default:
		s.internal(w, r, err)
	}
}

// decodeJSON reads a JSON body strictly: unknown fields and trailing data
// are errors, the size is bounded by the handler's MaxBytesReader.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return errors.New("invalid JSON body: " + err.Error())
	}
	if dec.More() {
		return errors.New("invalid JSON body: trailing data")
	}
	return nil
}

var errTooLarge = errors.New("request body too large")

func badRequest(w http.ResponseWriter, err error) {
	if errors.Is(err, errTooLarge) {
		writeError(w, 413, err.Error())
		return
	}
	writeError(w, 400, err.Error())
}

// UIDeps are what the web UI gets from `vigil serve`: the store's read API
// (tenant-scoped lists with filters, counts and pagination), the queue and
// the vulnerability DB's status.
type UIDeps struct {
	Store  *store.Store
	Queue  *jobs.Queue
	DB     *jobs.CurrentDB
	Logger *slog.Logger
}
