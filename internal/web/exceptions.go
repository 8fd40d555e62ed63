package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/policy"
)

// ErrInvalidException is wrapped by a Backend that refuses an exception
// for a reason the user can fix.
var ErrInvalidException = errors.New("invalid exception")

// createException adds a tenant exception from a finding's page. Only admins
// may; the backend audits it and the next evaluation applies it.
func (h *Handler) createException(w http.ResponseWriter, r *http.Request, st *reqState) {
	p := st.session.principal
	digest, key := r.PostFormValue("digest"), r.PostFormValue("key")
	if !p.Admin() {
		h.errorPage(w, r, st, http.StatusForbidden, "Only an admin can create exceptions. Sign in with a token of scope admin.")
		return
	}
	e, err := exceptionFromForm(r, h.opts.Now())
	if err == nil {
		err = ValidateException(e)
	}
	if err == nil {
		e, err = h.backend.CreateException(r.Context(), p, e)
	}
	if err != nil {
		if !errors.Is(err, errBadForm) && !errors.Is(err, ErrInvalidException) {
			h.fail(w, r, st, err)
			return
		}
		msg := err.Error()
		// Show the finding again with the draft and the error.
		if validDigest(digest) && key != "" {
			fd, ferr := h.backend.Finding(r.Context(), p.TenantID, digest, key)
			if ferr == nil {
				h.render(w, r, st, http.StatusUnprocessableEntity, "finding", fd.ID+" in "+fd.Package, "registries",
					findingData{FindingDetail: fd, CanExcept: true, ExceptionErr: msg, Draft: e})
				return
			}
		}
		h.errorPage(w, r, st, http.StatusUnprocessableEntity, msg)
		return
	}
	h.opts.Logger.Info("web: exception created", "tenant", p.TenantName, "token_id", p.TokenID, "id", e.ID, "vuln", e.VulnID, "package", e.Package)
	next := "/remediation?created=" + url.QueryEscape(fmt.Sprint(e.ID))
	if validDigest(digest) && key != "" {
		next = "/images/" + url.PathEscape(digest) + "/findings/" + url.PathEscape(key) + "?exception=created"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

var errBadForm = errors.New("invalid exception")

func exceptionFromForm(r *http.Request, now time.Time) (Exception, error) {
	e := Exception{
		VulnID:  strings.TrimSpace(r.PostFormValue("vuln_id")),
		Package: strings.TrimSpace(r.PostFormValue("package")),
		Image:   strings.TrimSpace(r.PostFormValue("image")),
		Path:    strings.TrimSpace(r.PostFormValue("path")),
		Reason:  strings.TrimSpace(r.PostFormValue("reason")),
	}
	for _, f := range []string{e.VulnID, e.Package, e.Image, e.Path, e.Reason} {
		if len(f) > 1024 {
			return e, fmt.Errorf("%w: a field is longer than 1024 characters", errBadForm)
		}
	}
	if s := strings.TrimSpace(r.PostFormValue("expires")); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return e, fmt.Errorf("%w: expiry %q is not a date (YYYY-MM-DD)", errBadForm, s)
		}
		// A date applies through the end of that day, UTC, as in .vigil.yaml.
		if !t.AddDate(0, 0, 1).After(now) {
			return e, fmt.Errorf("%w: expiry %s is in the past", errBadForm, s)
		}
		e.Expires = t
	}
	return e, nil
}

// ExceptionYAML renders an exception as one `ignore` entry of a .vigil.yaml
// document, the form the service stores and evaluates.
func ExceptionYAML(e Exception) ([]byte, error) {
	entry := map[string]string{"reason": e.Reason}
	for k, v := range map[string]string{"id": e.VulnID, "package": e.Package, "image": e.Image, "path": e.Path} {
		if v != "" {
			entry[k] = v
		}
	}
	if !e.Expires.IsZero() {
		entry["expires"] = e.Expires.UTC().Format(time.DateOnly)
	}
	return yaml.Marshal(map[string]any{"ignore": []map[string]string{entry}})
}

// ValidateException applies .vigil.yaml's rules to an exception: a reason,
// an id or a package glob (or both), valid globs and a single id.
func ValidateException(e Exception) error {
	doc, err := ExceptionYAML(e)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidException, err)
	}
	if _, err := policy.Parse("exception", doc); err != nil {
		// policy errors name "exception:LINE:"; the line of a generated
		// document means nothing to the user.
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "exception:") {
			msg = rest
		}
		return fmt.Errorf("%w: %s", ErrInvalidException, msg)
	}
	return nil
}
