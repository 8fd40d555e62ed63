package server

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/harbor"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/store"
)

// The Harbor Pluggable Scanner API v1.2 (docs/server.md, "Harbor"): Harbor
// registers Vigil as a scanner at http://vigil:8080/harbor and calls
// /harbor/api/v1/... with a Vigil API token of ingest scope. A scan request
// becomes a River job (internal/jobs harbor.go) and Harbor polls the report.
func (s *Server) registerHarbor() {
	s.handle("GET /harbor/api/v1/metadata", s.harborAuth(s.harborMetadata))
	s.handle("POST /harbor/api/v1/scan", s.harborAuth(s.harborScan))
	s.handle("GET /harbor/api/v1/scan/{id}/report", s.harborAuth(s.harborReport))
}

func (s *Server) harborAuth(h http.HandlerFunc) http.HandlerFunc {
	return s.authWith(store.ScopeIngest, writeHarborError, h)
}

func writeHarbor(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// writeHarborError writes the spec's ErrorResponse.
func writeHarborError(w http.ResponseWriter, status int, msg string) {
	writeHarbor(w, status, harbor.MimeError, harbor.NewError(msg))
}

func (s *Server) harborScanner() harbor.Scanner {
	v := s.opts.Version
	if v == "" {
		v = "dev"
	}
	return harbor.Scanner{Name: "Vigil", Vendor: "Vigil", Version: v}
}

func (s *Server) harborMetadata(w http.ResponseWriter, r *http.Request) {
	var built time.Time
	if s.opts.DB != nil {
		built = s.opts.DB.Info().Built
	}
	ct := harbor.MimeMetadata11
	if sameMIME(r.Header.Get("Accept"), harbor.MimeMetadata10) {
		ct = harbor.MimeMetadata10
	}
	writeHarbor(w, 200, ct, harbor.NewMetadata(s.harborScanner(), built))
}

func (s *Server) harborScan(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !s.limiter.allow("ingest:"+p.Tenant, s.opts.Now()) {
		w.Header().Set("Retry-After", "1")
		writeHarborError(w, 429, "too many scan requests; retry later")
		return
	}
	// A ScanRequest is a few hundred bytes: 1 MiB like the webhooks.
	r.Body = http.MaxBytesReader(w, r.Body, min(s.opts.MaxBody, maxHarborRequest))
	req, err := harbor.DecodeScanRequest(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		var re *harbor.RequestError
		switch {
		case errors.As(err, &mbe):
			writeHarborError(w, 413, "scan request too large")
		case errors.As(err, &re):
			writeHarborError(w, re.Status, re.Msg)
		default:
			writeHarborError(w, 400, err.Error())
		}
		return
	}
	if host, _ := req.Host(); !harbor.HostAllowed(host, s.opts.HarborRegistries) {
		writeHarborError(w, 422, "registry.url: "+host+" is not in this server's harbor_registries")
		return
	}
	if s.q == nil {
		writeHarborError(w, 500, "no job queue: this server does not scan")
		return
	}
	stored := req
	stored.Registry.Authorization = ""
	reqJSON, _ := json.Marshal(stored)
	a := req.Artifact
	id, err := s.st.CreateHarborScan(r.Context(), p.TenantID, store.NewHarborScan{RegistryURL: req.Registry.URL,
		Authorization: req.Registry.Authorization, Repository: a.Repository, Digest: a.Digest, Tag: a.Tag, MimeType: a.MimeType,
		Request: string(reqJSON)})
	if err != nil {
		s.harborInternal(w, r, err)
		return
	}
	if err := s.q.EnqueueHarborScan(r.Context(), p.TenantID, id); err != nil {
		s.st.SetHarborScanError(r.Context(), p.TenantID, id, err, true)
		s.harborInternal(w, r, err)
		return
	}
	writeHarbor(w, 202, harbor.MimeScanResponse, harbor.ScanResponse{ID: id})
}

const maxHarborRequest = 1 << 20

func (s *Server) harborInternal(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeHarborError(w, 500, "internal error")
}

// reportTypes are the report MIME types Vigil produces.
var reportTypes = []string{harbor.MimeVulnReportHarbor, harbor.MimeVulnReport, harbor.MimeVulnReportRaw, harbor.MimeSBOMReport}

// reportType picks the report type from Accept: Harbor sends exactly one
// of the types it registered; none or */* means Harbor's native report.
func reportType(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return harbor.MimeVulnReportHarbor, true
	}
	for _, part := range strings.Split(accept, ",") {
		for _, t := range reportTypes {
			if sameMIME(part, t) {
				return t, true
			}
		}
		if mt, _, err := mime.ParseMediaType(part); err == nil && mt == "*/*" {
			return harbor.MimeVulnReportHarbor, true
		}
	}
	return "", false
}

// sameMIME compares media types with their parameters as mime parses
// them ("a; version=1.0" and "A;version=1.0" are the same); an Accept
// entry's q weight is not a parameter of the type.
func sameMIME(a, b string) bool {
	ta, pa, erra := mime.ParseMediaType(a)
	tb, pb, errb := mime.ParseMediaType(b)
	if erra != nil || errb != nil || ta != tb {
		return false
	}
	delete(pa, "q")
	delete(pb, "q")
	return maps.Equal(pa, pb)
}

// harborRefreshAfter is how long Harbor should wait before polling again:
// short while a scan is young (most finish in seconds), then Harbor's own
// default.
func harborRefreshAfter(age time.Duration) string {
	if age < 10*time.Second {
		return "1"
	}
	return "5"
}

func (s *Server) harborReport(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	id := r.PathValue("id")
	h, err := s.st.HarborScan(r.Context(), p.TenantID, id)
	if errors.Is(err, store.ErrNotFound) || len(id) > 100 {
		writeHarborError(w, 404, "no scan request "+id)
		return
	}
	if err != nil {
		s.harborInternal(w, r, err)
		return
	}
	mime, ok := reportType(r.Header.Get("Accept"))
	if !ok {
		writeHarborError(w, 501, "Vigil does not produce "+r.Header.Get("Accept")+"; it produces "+strings.Join(reportTypes, ", "))
		return
	}
	sbomType := r.URL.Query().Get("sbom_media_type")
	if mime == harbor.MimeSBOMReport && sbomType != harbor.SBOMCycloneDX && sbomType != harbor.SBOMSPDX {
		writeHarborError(w, 400, "sbom_media_type: want "+harbor.SBOMCycloneDX+" or "+harbor.SBOMSPDX)
		return
	}
	switch h.Status {
	case store.HarborQueued:
		w.Header().Set("Refresh-After", harborRefreshAfter(s.opts.Now().Sub(h.CreatedAt)))
		w.Header().Set("Location", r.URL.RequestURI())
		w.WriteHeader(302)
		return
	case store.HarborFailed:
		writeHarborError(w, 500, "scan failed: "+h.Error)
		return
	}
	if mime == harbor.MimeVulnReportRaw {
		// The scanner's native report: Vigil's JSON report as stored.
		w.Header().Set("Content-Type", mime)
		w.WriteHeader(200)
		io.WriteString(w, h.Report)
		return
	}
	var rep result.Report
	if err := json.Unmarshal([]byte(h.Report), &rep); err != nil {
		s.harborInternal(w, r, err)
		return
	}
	art := harbor.Artifact{Repository: h.Repository, Digest: h.Digest, Tag: h.Tag, MimeType: h.MimeType}
	if mime == harbor.MimeSBOMReport {
		sbom, err := harbor.NewSbomReport(&rep, art, s.harborScanner(), sbomType)
		if err != nil {
			s.harborInternal(w, r, err)
			return
		}
		writeHarbor(w, 200, mime, sbom)
		return
	}
	writeHarbor(w, 200, mime, harbor.NewVulnerabilityReport(&rep, art, s.harborScanner()))
}
