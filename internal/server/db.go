package server

import (
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/vigil-scan/vigil/internal/feeds"
)

func (s *Server) dbInfo(w http.ResponseWriter, r *http.Request) {
	if s.opts.DB == nil {
		writeError(w, 503, "no vulnerability DB")
		return
	}
	writeJSON(w, 200, s.opts.DB.Info())
}

func (s *Server) dbRefresh(w http.ResponseWriter, r *http.Request) {
	if s.q == nil {
		writeError(w, 503, "no job queue")
		return
	}
	if err := s.q.EnqueueRefresh(r.Context()); err != nil {
		s.internal(w, r, err)
		return
	}
	s.st.Audit(r.Context(), principal(r), "db.refresh", "", "")
	writeJSON(w, 202, map[string]string{"status": "refresh queued"})
}

// dbMetadata is what `vigil db update --from` reads first (feeds.PrebuiltMeta).
func (s *Server) dbMetadata(w http.ResponseWriter, r *http.Request) {
	if s.opts.DB == nil || !s.opts.DB.Ready() {
		writeError(w, 503, "no vulnerability DB yet")
		return
	}
	in := s.opts.DB.Info()
	etag := `"` + strings.TrimPrefix(in.Digest, "sha256:") + `"`
	w.Header().Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == etag {
		w.WriteHeader(304)
		return
	}
	writeJSON(w, 200, feeds.PrebuiltMeta{SchemaVersion: in.Schema, Built: in.Built, Digest: in.Digest, Size: in.Size})
}

// dbFile serves the DB file itself with its digest as ETag (conditional
// and range requests through http.ServeContent).
func (s *Server) dbFile(w http.ResponseWriter, r *http.Request) {
	if s.opts.DB == nil || !s.opts.DB.Ready() {
		writeError(w, 503, "no vulnerability DB yet")
		return
	}
	in := s.opts.DB.Info()
	f, err := os.Open(in.Path)
	if err != nil {
		s.internal(w, r, fmt.Errorf("opening the DB: %w", err))
		return
	}
	defer f.Close()
	w.Header().Set("ETag", `"`+strings.TrimPrefix(in.Digest, "sha256:")+`"`)
	w.Header().Set("Content-Type", "application/vnd.vigil.db.v1+sqlite3")
	http.ServeContent(w, r, "vigil.db", in.Built, f)
}
