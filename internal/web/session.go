package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Session cookies name a server-side session; the session holds the
// principal and its CSRF synchronizer token. Sessions live in the process
// (a restart signs everyone out, and API replicas behind a load balancer
// need sticky sessions); they are bounded in number and expire.
const (
	cookieName     = "vigil_session"
	sessionTTL     = 12 * time.Hour
	maxSessions    = 10000
	csrfField      = "csrf_token"
	csrfHeader     = "X-CSRF-Token"
	sessionIDBytes = 32
)

type session struct {
	principal Principal
	csrf      string
	expires   time.Time
}

// sessions is the in-memory session table, keyed by the SHA-256 of the
// cookie value so a memory dump does not reveal live cookies.
type sessions struct {
	mu  sync.Mutex
	m   map[[32]byte]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, now: now}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session and returns the cookie value.
func (s *sessions) create(p Principal) string {
	id := randomToken(sessionIDBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.m) >= maxSessions {
		s.sweepLocked(now)
		if len(s.m) >= maxSessions { // still full: drop the oldest-expiring one
			var oldest [32]byte
			var at time.Time
			for k, v := range s.m {
				if at.IsZero() || v.expires.Before(at) {
					oldest, at = k, v.expires
				}
			}
			delete(s.m, oldest)
		}
	}
	s.m[sha256.Sum256([]byte(id))] = &session{principal: p, csrf: randomToken(32), expires: now.Add(sessionTTL)}
	return id
}

func (s *sessions) sweepLocked(now time.Time) {
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
}

// get returns the live session of a cookie value.
func (s *sessions) get(id string) (*session, bool) {
	if id == "" || len(id) > 128 {
		return nil, false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return nil, false
	}
	if !s.now().Before(v.expires) {
		delete(s.m, k)
		return nil, false
	}
	return v, true
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
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
