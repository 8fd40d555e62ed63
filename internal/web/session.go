package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

// Session cookies name a server-side session; the session holds the
// principal and its CSRF synchronizer token. Sessions are stored through
// the Backend (the service database), keyed by the SHA-256 of the cookie
// value, so they survive a restart and work across API replicas, and a
// database dump reveals no live cookie.
const (
	cookieName     = "vigil_session"
	sessionTTL     = 12 * time.Hour
	csrfField      = "csrf_token"
	csrfHeader     = "X-CSRF-Token"
	sessionIDBytes = 32
)

type session struct {
	principal Principal
	csrf      string
}

type sessions struct {
	b   Backend
	now func() time.Time
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSessionID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// create starts a session and returns the cookie value.
func (s *sessions) create(ctx context.Context, p Principal) (string, error) {
	id := randomToken(sessionIDBytes)
	return id, s.b.CreateSession(ctx, hashSessionID(id), p, randomToken(32), s.now().Add(sessionTTL))
}

// get returns the live session of a cookie value (false when there is
// none or it has expired).
func (s *sessions) get(ctx context.Context, id string) (*session, bool, error) {
	if id == "" || len(id) > 128 {
		return nil, false, nil
	}
	p, csrf, err := s.b.Session(ctx, hashSessionID(id))
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &session{principal: p, csrf: csrf}, true, nil
}

func (s *sessions) delete(ctx context.Context, id string) error {
	return s.b.DeleteSession(ctx, hashSessionID(id))
}

// validCSRF compares the token a form or header sent with the session's.
func (ss *session) validCSRF(r *http.Request) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) == 1
}

// sessionCookie is the cookie for a session id; Secure when the request
// came over TLS (directly or, with TrustProxy, per X-Forwarded-Proto).
func (h *Handler) sessionCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.isTLS(r),
		SameSite: http.SameSiteStrictMode,
	}
}

func (h *Handler) isTLS(r *http.Request) bool {
	return r.TLS != nil || (h.opts.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https")
}
