// Package web owns Vigil's web UI: server-rendered html/template pages, the
// CSS, a few lines of progressive-enhancement JavaScript and the SVG charts,
// all embedded in the binary. It reads and writes through Backend (the
// service's store implements it), signs users in by exchanging an API token
// for a session cookie and checks a CSRF synchronizer token on every
// state-changing request. `vigil serve` mounts the Handler at "/".
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the UI.
type Options struct {
	// TrustProxy believes X-Forwarded-Proto: https for the cookie's Secure
	// flag, for a TLS-terminating proxy in front of vigil serve.
	TrustProxy bool
	Logger     *slog.Logger
	// Now is the clock (tests set it); time.Now when nil.
	Now func() time.Time
	// Version is shown in the footer.
	Version string
}

// Handler serves the UI.
type Handler struct {
	backend  Backend
	opts     Options
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
	static   http.Handler
}

// New builds the UI handler over a backend.
func New(b Backend, opts Options) (*Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	h := &Handler{backend: b, opts: opts, sessions: &sessions{b: b, now: opts.Now}, pages: pages, mux: http.NewServeMux()}
	h.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /static/", h.serveStatic)
	m.HandleFunc("GET /signin", h.signInForm)
	m.HandleFunc("POST /signin", h.signIn)
	m.Handle("POST /signout", h.authed(h.signOut))
	m.Handle("GET /{$}", h.authed(h.overview))
	m.Handle("GET /registries", h.authed(h.registries))
	m.Handle("GET /registries/{id}", h.authed(h.registry))
	m.Handle("GET /registries/{id}/repositories/{repo...}", h.authed(h.repository))
	m.Handle("GET /images/{digest}", h.authed(h.image))
	m.Handle("GET /images/{digest}/findings/{key}", h.authed(h.finding))
	m.Handle("GET /remediation", h.authed(h.remediation))
	m.Handle("POST /exceptions", h.authed(h.createException))
	m.Handle("GET /search", h.authed(h.search))
}

// ServeHTTP sets the security headers every UI response carries and
// dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Everything is same-origin: no inline script or style, no framing.
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	// Assets are embedded, so they change only with the binary: the
	// version in their URL (?v=) busts the cache.
	w.Header().Set("Cache-Control", "public, max-age=86400")
	h.static.ServeHTTP(w, r)
}

type reqState struct {
	id      string
	session *session
}

// authed requires a session; a state-changing method also requires the
// session's CSRF token (403 without it).
func (h *Handler) authed(fn func(http.ResponseWriter, *http.Request, *reqState)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		var s *session
		ok := false
		if err == nil {
			s, ok, err = h.sessions.get(r.Context(), c.Value)
			if err != nil {
				h.fail(w, r, nil, err)
				return
			}
		}
		if !ok {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				h.errorPage(w, r, nil, http.StatusForbidden, "Your session has ended. Sign in again.")
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !s.validCSRF(r) {
				h.errorPage(w, r, &reqState{id: c.Value, session: s}, http.StatusForbidden, "The form's security token is missing or wrong. Reload the page and try again.")
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		fn(w, r, &reqState{id: c.Value, session: s})
	})
}

// pageData is what every page template gets.
type pageData struct {
	Title     string
	Nav       string
	Principal *Principal
	CSRF      string
	Version   string
	Now       time.Time
	Server    string // base URL for the commands the empty states show
	Data      any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, st *reqState, status int, page, title, nav string, data any) {
	t, ok := h.pages[page]
	if !ok {
		h.opts.Logger.Error("web: missing template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	pd := pageData{Title: title, Nav: nav, Version: h.opts.Version, Now: h.opts.Now(), Server: h.baseURL(r), Data: data}
	if st != nil {
		p := st.session.principal
		pd.Principal = &p
		pd.CSRF = st.session.csrf
	}
	// Render to a buffer so a template error never leaves half a page.
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pd); err != nil {
		h.opts.Logger.Error("web: rendering", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) baseURL(r *http.Request) string {
	scheme := "http"
	if h.isTLS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type errorData struct {
	Status  int
	Message string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, st *reqState, status int, msg string) {
	h.render(w, r, st, status, "error", http.StatusText(status), "", errorData{Status: status, Message: msg})
}

// fail maps a backend error to a page: ErrNotFound (also another tenant's
// object) is a 404, anything else a 500 that is logged, not shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, st *reqState, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		h.errorPage(w, r, st, http.StatusNotFound, "There is nothing at this address in your organisation.")
	case errors.Is(err, context.Canceled):
	default:
		h.opts.Logger.Error("web: backend", "path", r.URL.Path, "err", err)
		h.errorPage(w, r, st, http.StatusInternalServerError, "Something went wrong on the server; it has been logged.")
	}
}
