package server

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/vigil-scan/vigil/internal/store"
)

// maxRunningImages bounds one cluster report.
const maxRunningImages = 100000

// clusterRE is a cluster name: tag-like.
var clusterRE = tagRE

// runningImages replaces a cluster's report of running images.
func (s *Server) runningImages(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	cluster := r.PathValue("name")
	if !clusterRE.MatchString(cluster) {
		writeError(w, 400, "cluster name: letters, digits, '.', '_' and '-', at most 128")
		return
	}
	if !s.limiter.allow("ingest:"+p.Tenant, s.opts.Now()) {
		w.Header().Set("Retry-After", "1")
		writeError(w, 429, "too many reports; retry later")
		return
	}
	var body struct {
		Images []store.RunningImage `json:"images"`
	}
	if err := decodeJSON(r, &body); err != nil {
		badRequest(w, err)
		return
	}
	if len(body.Images) > maxRunningImages {
		writeError(w, 413, "too many images in one report")
		return
	}
	for _, im := range body.Images {
		if !digestRE.MatchString(im.Digest) {
			writeError(w, 400, "digest "+quoteShort(im.Digest)+": want sha256:<64 hex>")
			return
		}
		if len(im.Image)+len(im.Namespace)+len(im.Workload)+len(im.Container) > 4000 {
			writeError(w, 400, "image entry too long")
			return
		}
	}
	if err := s.st.ReplaceRunning(r.Context(), p.TenantID, cluster, body.Images); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]int{"images": len(body.Images)})
}

func (s *Server) recommendations(w http.ResponseWriter, r *http.Request) {
	recs, err := s.st.Recommendations(r.Context(), principal(r).TenantID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]any{"items": recs})
}

// exportFindings streams the tenant's findings (same filters as
// /api/v1/findings, open ones by default) as JSON or CSV, page by page.
func (s *Server) exportFindings(w http.ResponseWriter, r *http.Request) {
	f, err := s.findingFilter(r)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	if len(f.States) == 0 {
		f.States = []string{store.StateOpen}
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		writeError(w, 400, "format: want json or csv")
		return
	}
	f.Limit = store.MaxLimit
	tenant := principal(r).TenantID
	var cw *csv.Writer
	var enc *json.Encoder
	first := true
	for {
		page, err := s.st.Findings(r.Context(), tenant, f)
		if err != nil {
			if first {
				s.storeError(w, r, err)
			}
			return
		}
		if first {
			first = false
			if format == "csv" {
				w.Header().Set("Content-Type", "text/csv")
				w.Header().Set("Content-Disposition", `attachment; filename="findings.csv"`)
				cw = csv.NewWriter(w)
				cw.Write([]string{"image", "id", "severity", "package", "version", "type", "fixed_versions", "fix_state", "state", "first_seen_at", "resolved_at", "title"})
			} else {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Disposition", `attachment; filename="findings.json"`)
				w.Write([]byte(`{"items":[`))
				enc = json.NewEncoder(w)
			}
		}
		for i, fd := range page.Items {
			if cw != nil {
				resolved := ""
				if fd.ResolvedAt != nil {
					resolved = fd.ResolvedAt.Format("2006-01-02T15:04:05Z")
				}
				cw.Write([]string{fd.Image, fd.ID, fd.Severity, csvSafe(fd.Package.Name), csvSafe(fd.Package.Version), fd.Package.Type,
					csvSafe(strings.Join(fd.FixedVersions, " ")), string(fd.FixState), fd.State, fd.FirstSeenAt.Format("2006-01-02T15:04:05Z"), resolved, csvSafe(fd.Title)})
			} else {
				if !(i == 0 && f.PageToken == "") {
					w.Write([]byte(","))
				}
				enc.Encode(fd)
			}
		}
		if page.NextPageToken == "" {
			break
		}
		f.PageToken = page.NextPageToken
	}
	if cw != nil {
		cw.Flush()
	} else {
		w.Write([]byte("]}\n"))
	}
}

// csvSafe defuses spreadsheet formulas in values that come from images.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// createNotification registers an outbound webhook for new critical/high
// findings: {"url","secret","min_severity"}.
func (s *Server) createNotification(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	var in struct {
		URL         string `json:"url"`
		Secret      string `json:"secret"`
		MinSeverity string `json:"min_severity"`
	}
	if err := decodeJSON(r, &in); err != nil {
		badRequest(w, err)
		return
	}
	h, err := s.st.CreateOutboundWebhook(r.Context(), p.TenantID, in.URL, in.Secret, in.MinSeverity)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	s.st.Audit(r.Context(), p, "notification.create", h.ID, h.URL)
	writeJSON(w, 201, h)
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.st.OutboundWebhooks(r.Context(), principal(r).TenantID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]any{"items": hooks})
}
