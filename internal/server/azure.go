package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigil-scan/vigil/internal/azureci"
	"github.com/vigil-scan/vigil/internal/store"
)

// trackResponse is Application Insights' answer to a track request, which
// the SDK reads to decide what to retry; error carries Vigil's message for
// a request refused as a whole.
type trackResponse struct {
	ItemsReceived int         `json:"itemsReceived"`
	ItemsAccepted int         `json:"itemsAccepted"`
	Errors        []itemError `json:"errors"`
	Error         string      `json:"error,omitempty"`
}

type itemError struct {
	Index      int    `json:"index"`
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

func writeTrackError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, trackResponse{Errors: []itemError{}, Error: msg})
}

// maxFirstItem bounds what is read of a track request before it is
// authenticated and rate-limited: its first telemetry item, where the token
// is (a ScanResult event of thousands of CVE ids is tens of KiB).
const maxFirstItem = 1 << 20

// azureTrack is an Application Insights ingestion endpoint for
// Azure/publish-security-assessments (docs/publish.md): a workflow's
// connection string points IngestionEndpoint at Vigil and its
// InstrumentationKey is a Vigil ingest token. MS.CloudSecurity.CI.ScanResult
// events are stored like `vigil publish` runs; other telemetry is accepted
// and dropped. A replayed event (same digest and requestId) is stored once.
//
// The token is in the body (the SDK sends no header Vigil could use), so
// the body is read only as far as the first item's iKey before that token
// is authenticated and its tenant rate-limited: a flood of large bodies, or
// of bodies with a wrong key, is turned away after at most maxFirstItem
// bytes. The other items' keys are checked once the whole batch is read.
func (s *Server) azureTrack(w http.ResponseWriter, r *http.Request) {
	body := io.Reader(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.trackBadBody(w, err)
			return
		}
		defer zr.Close()
		body = zr
	default:
		writeTrackError(w, 415, "Content-Encoding "+enc+": want gzip or none")
		return
	}
	// A small compressed body may inflate to anything: bound what is read.
	body = &capReader{r: body, left: s.opts.MaxBody}
	var head bytes.Buffer
	ikey, found, err := azureci.FirstIKey(&capReader{r: io.TeeReader(body, &head), left: maxFirstItem, err: errFirstItemTooLarge})
	if err != nil {
		s.trackBadBody(w, err)
		return
	}
	charged := map[string]bool{}
	if found {
		p, status, msg := s.trackPrincipal(r.Context(), ikey)
		if status == 0 && !s.limiter.allow("ingest:"+p.Tenant, s.opts.Now()) {
			status, msg = 429, "too many uploads; retry later"
		}
		if status != 0 {
			s.writeTrackRefusal(w, status, msg)
			return
		}
		charged[p.Tenant] = true
	}
	envs, err := azureci.Decode(io.MultiReader(&head, body))
	if err != nil {
		s.trackBadBody(w, err)
		return
	}
	principals, status, msg := s.trackPrincipals(r.Context(), envs)
	for _, p := range principals {
		if status == 0 && !charged[p.Tenant] && !s.limiter.allow("ingest:"+p.Tenant, s.opts.Now()) {
			status, msg = 429, "too many uploads; retry later"
		}
		charged[p.Tenant] = true
	}
	if status != 0 {
		s.writeTrackRefusal(w, status, msg)
		return
	}
	resp := trackResponse{ItemsReceived: len(envs), Errors: []itemError{}}
	for i := range envs {
		e := &envs[i]
		if !e.IsScanResult() {
			resp.ItemsAccepted++
			continue
		}
		if err := s.recordAzureScan(r.Context(), principals[e.IKey], e); err != nil {
			var bad badEvent
			if !errors.As(err, &bad) {
				s.internal(w, r, err)
				return
			}
			resp.Errors = append(resp.Errors, itemError{Index: i, StatusCode: 400, Message: bad.Error()})
			continue
		}
		resp.ItemsAccepted++
	}
	status = 200
	switch {
	case resp.ItemsAccepted == 0 && len(resp.Errors) > 0:
		status = 400
	case len(resp.Errors) > 0:
		status = 206 // Application Insights' partial success
	}
	writeJSON(w, status, resp)
}

// writeTrackRefusal answers a request refused as a whole.
func (s *Server) writeTrackRefusal(w http.ResponseWriter, status int, msg string) {
	switch status {
	case 401:
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	case 429:
		w.Header().Set("Retry-After", "1")
	}
	writeTrackError(w, status, msg)
}

// errFirstItemTooLarge is a first telemetry item over maxFirstItem.
var errFirstItemTooLarge = errors.New("the first telemetry item is larger than 1 MiB")

func (s *Server) trackBadBody(w http.ResponseWriter, err error) {
	if errors.Is(err, errFirstItemTooLarge) {
		writeTrackError(w, 413, errFirstItemTooLarge.Error())
		return
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, errTooLarge) || errors.Is(err, azureci.ErrTooMany) {
		writeTrackError(w, 413, "request body too large")
		return
	}
	writeTrackError(w, 400, "invalid telemetry: "+err.Error())
}

// trackPrincipals authenticates every envelope's instrumentation key as a
// Vigil token with the ingest scope. It returns a status and message when
// the request is refused as a whole.
func (s *Server) trackPrincipals(ctx context.Context, envs []azureci.Envelope) (map[string]store.Principal, int, string) {
	out := map[string]store.Principal{}
	for _, e := range envs {
		if _, ok := out[e.IKey]; ok {
			continue
		}
		if len(out) >= 4 {
			return nil, 400, "too many instrumentation keys in one request"
		}
		p, status, msg := s.trackPrincipal(ctx, e.IKey)
		if status != 0 {
			return nil, status, msg
		}
		out[e.IKey] = p
	}
	return out, 0, ""
}

// trackPrincipal authenticates one instrumentation key.
func (s *Server) trackPrincipal(ctx context.Context, ikey string) (store.Principal, int, string) {
	if ikey == "" {
		return store.Principal{}, 401, "telemetry item without iKey: the connection string's InstrumentationKey must be a Vigil ingest token"
	}
	p, err := s.st.Authenticate(ctx, ikey)
	if errors.Is(err, store.ErrNotFound) {
		return p, 401, "invalid token: the connection string's InstrumentationKey must be a Vigil ingest token"
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.Error("authenticating an instrumentation key", "err", err)
		}
		return p, 500, "internal error"
	}
	if !p.Scope.Allows(store.ScopeIngest) {
		return p, 403, "this token's scope (" + string(p.Scope) + ") does not allow this; need " + string(store.ScopeIngest)
	}
	return p, 0, ""
}

// badEvent is an event Vigil cannot use; the rest of the batch goes on.
type badEvent struct{ error }

// recordAzureScan stores one ScanResult event as a CI run of the digest;
// an image only CI knows gets the event's vulnerabilities as its findings.
func (s *Server) recordAzureScan(ctx context.Context, p store.Principal, e *azureci.Envelope) error {
	sr, err := azureci.ParseScanResult(e.Data.BaseData.Properties)
	if err != nil {
		return badEvent{err}
	}
	imageName, digest, _ := sr.Image()
	repo := ""
	if imageName != "" {
		ref, err := name.ParseReference(imageName + "@" + digest)
		if err != nil {
			return badEvent{errors.New("context.artifactId: " + err.Error())}
		}
		repo = ref.Context().RepositoryStr()
	}
	report, err := json.Marshal(sr) // the event without the subscription token
	if err != nil {
		return err
	}
	// The action makes a new requestId per run; the SDK's retries resend it.
	// Without one, the event's content identifies it.
	h := sha256.New()
	h.Write([]byte(digest + "\x00" + sr.Context.RequestID + "\x00"))
	if sr.Context.RequestID == "" {
		h.Write([]byte(e.Time + "\x00"))
		h.Write(report)
	}
	key := "azure:" + hex.EncodeToString(h.Sum(nil))
	wf := sr.Workflow.AdditionalData
	_, imageID, _, err := s.st.RecordCIRun(ctx, p.TenantID, store.CIRunInput{
		IdempotencyKey: key, Digest: digest, ImageName: imageName, Repository: repo,
		Provider: sr.Provider(), Workflow: wf["GITHUB_WORKFLOW"], RunID: sr.RunID(), RunURL: sr.Workflow.RunURL,
		SourceRepo: sr.Repository(), SourceRepoURL: sr.Workflow.RepositoryURL,
		Commit: wf["GITHUB_SHA"], Ref: wf["GITHUB_REF"], Report: string(report)})
	if err != nil || imageID == 0 {
		return err
	}
	return s.applyCI(ctx, store.Evaluation{ImageID: imageID, Kind: "ci", Findings: sr.Findings()})
}

// capReader fails with err (errTooLarge when nil) after left bytes.
type capReader struct {
	r    io.Reader
	left int64
	err  error
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, err := c.r.Read(one[:]); n == 0 && errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		if c.err != nil {
			return 0, c.err
		}
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
