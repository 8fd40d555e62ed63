package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

type signInData struct {
	Next  string
	Error string
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, nil, http.StatusOK, "signin", "Sign in", "", signInData{Next: safeNext(r.URL.Query().Get("next"))})
}

// signIn exchanges an API token for a session. The form has no CSRF token
// (there is no session yet); SameSite=Strict on the session cookie and the
// Origin check below stop a cross-site form from signing a victim into an
// attacker's tenant.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	next := safeNext(r.PostFormValue("next"))
	if !h.sameOrigin(r) {
		h.errorPage(w, r, nil, http.StatusForbidden, "Sign-in must come from this site's own form.")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	if token == "" {
		h.render(w, r, nil, http.StatusUnauthorized, "signin", "Sign in", "", signInData{Next: next, Error: "Enter an API token."})
		return
	}
	p, err := h.backend.Authenticate(r.Context(), token)
	if err != nil {
		if !errors.Is(err, ErrUnauthorized) {
			h.opts.Logger.Error("web: authenticate", "err", err)
		}
		h.render(w, r, nil, http.StatusUnauthorized, "signin", "Sign in", "", signInData{Next: next, Error: "That token is not valid. Create one with: vigil token create --tenant NAME --scope read"})
		return
	}
	// A previous session of this browser ends: no session fixation.
	if c, err := r.Cookie(cookieName); err == nil {
		if err := h.sessions.delete(r.Context(), c.Value); err != nil {
			h.fail(w, r, nil, err)
			return
		}
	}
	id, err := h.sessions.create(r.Context(), p)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.SetCookie(w, h.sessionCookie(r, id, int(sessionTTL.Seconds())))
	h.opts.Logger.Info("web: signed in", "tenant", p.TenantName, "scope", p.Scope, "token_id", p.TokenID)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, st *reqState) {
	if err := h.sessions.delete(r.Context(), st.id); err != nil {
		h.fail(w, r, st, err)
		return
	}
	http.SetCookie(w, h.sessionCookie(r, "", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// sameOrigin rejects a POST whose Origin (or, without it, Referer) names
// another host. Browsers send Origin on every POST; a missing header is
// allowed for non-browser clients, which have no ambient cookie to abuse.
func (h *Handler) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// safeNext keeps a post-sign-in redirect on this site: a path, never a
// scheme-relative or absolute URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
