package server

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// gateAnswer is what GET /api/v1/gate returns.
type gateAnswer struct {
	Image     string   `json:"image"`
	Allowed   bool     `json:"allowed"`
	Threshold string   `json:"threshold"`
	Reasons   []string `json:"reasons"`
}

// gate answers whether an image may be deployed: its current findings,
// with the tenant's policy (the same rules as .vigil.yaml) applied, must
// have none at or above the threshold (default HIGH). An image Vigil has
// not scanned is not allowed. The admission webhook calls this.
func (s *Server) gate(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	ref := r.URL.Query().Get("image")
	d, err := name.NewDigest(ref)
	if err != nil {
		// A tag can move between the check and the pull: the gate judges
		// one digest, and the message says where to get it.
		writeError(w, 400, "image: want REF@sha256:<digest>, not a tag (a tag can move): get the digest with `skopeo inspect --format '{{.Digest}}' docker://REF`, or from GET /api/v1/images?repository=NAME: "+err.Error())
		return
	}
	threshold := "HIGH"
	if v := r.URL.Query().Get("threshold"); v != "" {
		if threshold, err = policy.ParseSeverity(v); err != nil {
			writeError(w, 400, err.Error())
			return
		}
	}
	ans := gateAnswer{Image: ref, Threshold: threshold, Reasons: []string{}}
	im, err := s.st.Image(r.Context(), p.TenantID, d.DigestStr())
	if err != nil && err != store.ErrNotFound {
		s.internal(w, r, err)
		return
	}
	if err == store.ErrNotFound || im.Status != store.StatusScanned {
		ans.Reasons = append(ans.Reasons, "Vigil has not scanned this image")
		writeJSON(w, 200, ans)
		return
	}
	page, err := s.st.Findings(r.Context(), p.TenantID, store.FindingFilter{Digest: d.DigestStr(), States: []string{store.StateOpen, store.StateSuppressed}, Limit: store.MaxLimit})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	rep := &result.Report{Vulnerabilities: make([]vuln.Finding, 0, len(page.Items))}
	for _, f := range page.Items {
		rep.Vulnerabilities = append(rep.Vulnerabilities, f.Finding)
	}
	tenant, err := s.st.Tenant(r.Context(), p.TenantID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if tenant.Policy != "" {
		pol, err := policy.Parse("tenant policy", []byte(tenant.Policy))
		if err != nil {
			s.internal(w, r, err)
			return
		}
		pol.Apply(rep, s.opts.Now())
	}
	rep.Summarize()
	g := policy.Evaluate(rep, policy.GateOptions{Threshold: threshold})
	ans.Allowed = !g.Failed
	ans.Reasons = append(ans.Reasons, g.Reasons...)
	writeJSON(w, 200, ans)
}

// maxPolicyBody bounds a tenant policy.
const maxPolicyBody = 1 << 20

// putPolicy stores the tenant's policy: a .vigil.yaml document whose
// exceptions the gate applies. It is validated before it is stored.
func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPolicyBody))
	if err != nil {
		writeError(w, 413, "policy too large")
		return
	}
	if _, err := policy.Parse("policy", b); err != nil {
		writeError(w, 400, err.Error())
		return
	}
	if err := s.st.SetTenantPolicy(r.Context(), p.TenantID, string(b)); err != nil {
		s.internal(w, r, err)
		return
	}
	s.st.Audit(r.Context(), p, "policy.update", "", strings.TrimSpace(firstLine(string(b))))
	writeJSON(w, 200, map[string]string{"status": "stored", "at": s.opts.Now().UTC().Format(time.RFC3339)})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	t, err := s.st.Tenant(r.Context(), principal(r).TenantID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Write([]byte(t.Policy))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 200 {
		line = line[:200]
	}
	return line
}
