package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

func (s *Server) createRegistry(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	var in store.NewRegistry
	if err := decodeJSON(r, &in); err != nil {
		badRequest(w, err)
		return
	}
	reg, err := s.st.CreateRegistry(r.Context(), p.TenantID, in)
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			writeError(w, 409, err.Error())
			return
		}
		if strings.Contains(err.Error(), "url") || strings.Contains(err.Error(), "name") || strings.Contains(err.Error(), "too long") {
			writeError(w, 400, err.Error())
			return
		}
		s.internal(w, r, err)
		return
	}
	s.st.Audit(r.Context(), p, "registry.create", reg.ID, reg.Name+" "+reg.URL)
	s.startBackfill(reg.ID, p.TenantID)
	writeJSON(w, 201, reg)
}

func (s *Server) listRegistries(w http.ResponseWriter, r *http.Request) {
	regs, err := s.st.Registries(r.Context(), principal(r).TenantID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, store.Page[store.Registry]{Items: regs})
}

func (s *Server) getRegistry(w http.ResponseWriter, r *http.Request) {
	reg, err := s.st.Registry(r.Context(), principal(r).TenantID, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, reg)
}

func (s *Server) deleteRegistry(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := s.st.DeleteRegistry(r.Context(), p.TenantID, r.PathValue("id")); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.st.Audit(r.Context(), p, "registry.delete", r.PathValue("id"), "")
	w.WriteHeader(204)
}

func (s *Server) backfillRegistry(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	reg, err := s.st.Registry(r.Context(), p.TenantID, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	s.st.Audit(r.Context(), p, "registry.backfill", reg.ID, "")
	s.startBackfill(reg.ID, p.TenantID)
	writeJSON(w, 202, map[string]string{"status": "backfill started"})
}

// startBackfill lists the registry's repositories and tags in the
// background and records each tag as a push. Stop cancels it.
func (s *Server) startBackfill(registryID string, tenantID int64) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		err := s.runBackfill(registryID, tenantID)
		if err != nil {
			s.log.Warn("registry backfill failed", "registry", registryID, "err", err)
		}
		// Recorded even when the server is stopping, but not waited on
		// forever.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.st.SetRegistryBackfill(ctx, registryID, err); err != nil {
			s.log.Warn("recording the registry backfill", "registry", registryID, "err", err)
		}
	}()
}

// runBackfill is backfill with the server's background context; a panic
// is its error (in a goroutine of its own it would end the process).
func (s *Server) runBackfill(registryID string, tenantID int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("registry backfill panicked", "registry", registryID, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("backfill failed: internal error: %v", p)
		}
	}()
	err = s.backfill(s.bgCtx, registryID, tenantID)
	if err != nil && s.bgCtx.Err() != nil {
		err = errors.New("backfill interrupted: the server stopped; POST /api/v1/registries/{id}/backfill to run it again")
	}
	return err
}

// maxBackfillTags bounds one backfill (a registry with more is listed in
// part; webhooks bring the rest).
const maxBackfillTags = 100000

func (s *Server) backfill(ctx context.Context, registryID string, tenantID int64) error {
	creds, err := s.st.RegistryCredentials(ctx, registryID)
	if err != nil {
		return err
	}
	var nameOpts []name.Option
	if creds.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	reg, err := name.NewRegistry(creds.Host, nameOpts...)
	if err != nil {
		return err
	}
	ropts := []remote.Option{remote.WithContext(ctx)}
	if creds.Username != "" || creds.Password != "" {
		ropts = append(ropts, remote.WithAuth(&authn.Basic{Username: creds.Username, Password: creds.Password}))
	}
	// Pages of 100: Distribution rejects larger pages.
	var repos []string
	for last := ""; ; {
		page, err := remote.CatalogPage(reg, last, 100, ropts...)
		if err != nil {
			return fmt.Errorf("listing the catalog: %w", err)
		}
		repos = append(repos, page...)
		if len(page) < 100 || len(repos) > maxBackfillTags {
			break
		}
		last = page[len(page)-1]
	}
	n := 0
	for _, repoName := range repos {
		repo, err := name.NewRepository(creds.Host+"/"+repoName, nameOpts...)
		if err != nil {
			continue
		}
		tags, err := remote.List(repo, ropts...)
		if err != nil {
			return fmt.Errorf("listing tags of %s: %w", repoName, err)
		}
		for _, tag := range tags {
			if n++; n > maxBackfillTags {
				return fmt.Errorf("more than %d tags: backfill stopped", maxBackfillTags)
			}
			desc, err := remote.Head(repo.Tag(tag), ropts...)
			if err != nil {
				return fmt.Errorf("resolving %s:%s: %w", repoName, tag, err)
			}
			res, err := s.st.RecordEvents(ctx, []store.ImageEvent{{TenantID: tenantID, RegistryID: registryID, Repository: repoName,
				Digest: desc.Digest.String(), Tag: tag, Action: store.ActionPush}})
			if err != nil {
				return err
			}
			if res[0].Scan && s.q != nil {
				if err := s.q.EnqueueScan(ctx, tenantID, desc.Digest.String(), false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// queryBool parses an optional true/false query parameter.
func queryBool(r *http.Request, key string) (*bool, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, fmt.Errorf("%s: want true or false", key)
	}
	return &b, nil
}

func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > store.MaxLimit {
		return 0, fmt.Errorf("limit: want 1..%d", store.MaxLimit)
	}
	return n, nil
}

func querySeverities(r *http.Request) ([]string, error) {
	v := r.URL.Query().Get("severity")
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(strings.ToLower(v), ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "critical", "high", "medium", "low", "unknown":
			out = append(out, s)
		case "negligible":
			out = append(out, "low")
		default:
			return nil, fmt.Errorf("severity %q: want critical, high, medium, low or unknown (comma-separated)", s)
		}
	}
	return out, nil
}

func (s *Server) listRepositories(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	q := r.URL.Query()
	page, err := s.st.Repositories(r.Context(), principal(r).TenantID, store.RepositoryFilter{RegistryID: q.Get("registry_id"), Limit: limit, PageToken: q.Get("page_token")})
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, page)
}

func (s *Server) imageFilter(r *http.Request) (store.ImageFilter, error) {
	q := r.URL.Query()
	f := store.ImageFilter{RegistryID: q.Get("registry_id"), Repository: q.Get("repository"), CVE: q.Get("cve"), Package: q.Get("package"), PageToken: q.Get("page_token")}
	var err error
	if f.Severity, err = querySeverities(r); err != nil {
		return f, err
	}
	if f.Fixable, err = queryBool(r, "fixable"); err != nil {
		return f, err
	}
	if f.Running, err = queryBool(r, "running"); err != nil {
		return f, err
	}
	f.Limit, err = queryLimit(r)
	return f, err
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	f, err := s.imageFilter(r)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	page, err := s.st.Images(r.Context(), principal(r).TenantID, f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, page)
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	im, err := s.st.Image(r.Context(), principal(r).TenantID, r.PathValue("digest"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, im)
}

func (s *Server) findingFilter(r *http.Request) (store.FindingFilter, error) {
	q := r.URL.Query()
	f := store.FindingFilter{CVE: q.Get("cve"), Package: q.Get("package"), PageToken: q.Get("page_token")}
	var err error
	if f.Severity, err = querySeverities(r); err != nil {
		return f, err
	}
	if f.Fixable, err = queryBool(r, "fixable"); err != nil {
		return f, err
	}
	if f.Running, err = queryBool(r, "running"); err != nil {
		return f, err
	}
	if st := q.Get("state"); st != "" {
		for _, v := range strings.Split(st, ",") {
			switch v {
			case store.StateOpen, store.StateSuppressed, store.StateFixed, store.StateReplaced:
				f.States = append(f.States, v)
			default:
				return f, fmt.Errorf("state %q: want open, suppressed, fixed or replaced", v)
			}
		}
	}
	f.Limit, err = queryLimit(r)
	return f, err
}

func (s *Server) imageFindings(w http.ResponseWriter, r *http.Request) {
	f, err := s.findingFilter(r)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	f.Digest = r.PathValue("digest")
	if f.Limit == 0 {
		f.Limit = store.MaxLimit
	}
	page, err := s.st.Findings(r.Context(), principal(r).TenantID, f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, page)
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	f, err := s.findingFilter(r)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	page, err := s.st.Findings(r.Context(), principal(r).TenantID, f)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, page)
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.st.Summary(r.Context(), principal(r).TenantID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, 200, sum)
}

func (s *Server) failedJobs(w http.ResponseWriter, r *http.Request) {
	if s.q == nil {
		writeJSON(w, 200, map[string]any{"items": []any{}})
		return
	}
	list, err := s.q.Failures(r.Context(), 500)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// Jobs are shared by all tenants: show only this tenant's, and the
	// feed refreshes, which every tenant's findings depend on.
	mine := []jobs.FailedJob{}
	for _, j := range list {
		if j.Kind == (jobs.RefreshArgs{}).Kind() {
			mine = append(mine, j)
			continue
		}
		var args struct {
			TenantID int64 `json:"tenant_id"`
		}
		if json.Unmarshal([]byte(j.Args), &args) == nil && args.TenantID == principal(r).TenantID {
			mine = append(mine, j)
		}
	}
	writeJSON(w, 200, map[string]any{"items": mine})
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, 400, err.Error())
		return
	}
	entries, err := s.st.AuditLog(r.Context(), principal(r).TenantID, limit)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]any{"items": entries})
}
