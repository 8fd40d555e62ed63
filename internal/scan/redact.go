package scan

import (
	"regexp"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/secrets"
)

// redactConfig masks the secrets of the image config everywhere the report
// repeats it (Env, labels, history, and the created_by of every layer
// reference), so no output format prints a credential the secret scan
// found. The inventory itself is left untouched.
func redactConfig(r *result.Report) {
	cfg := r.Artifact.Config
	if cfg == nil {
		return
	}
	c := *cfg
	c.Env = append([]string(nil), cfg.Env...)
	for i, e := range c.Env {
		c.Env[i] = redactEnv(e)
	}
	if cfg.Labels != nil {
		c.Labels = make(map[string]string, len(cfg.Labels))
		for k, v := range cfg.Labels {
			red, _ := secrets.RedactText(k + "=" + v)
			c.Labels[k] = strings.TrimPrefix(red, k+"=")
		}
	}
	// A history step repeats an ENV value or carries a token of its own.
	renamed := map[string]string{}
	c.History = append([]inventory.HistoryEntry(nil), cfg.History...)
	for i, h := range c.History {
		if red, ok := secrets.RedactText(h.CreatedBy); ok {
			renamed[h.CreatedBy] = red
			c.History[i].CreatedBy = red
		}
	}
	r.Artifact.Config = &c
	if len(renamed) == 0 {
		return
	}
	layers := append([]inventory.Layer(nil), r.Artifact.Layers...)
	for i := range layers {
		if red, ok := renamed[layers[i].CreatedBy]; ok {
			layers[i].CreatedBy = red
		}
	}
	r.Artifact.Layers = layers
	refs := map[*inventory.LayerRef]*inventory.LayerRef{}
	fix := func(ref *inventory.LayerRef) *inventory.LayerRef {
		if ref == nil {
			return nil
		}
		if done, ok := refs[ref]; ok {
			return done
		}
		out := ref
		if red, ok := renamed[ref.CreatedBy]; ok {
			cp := *ref
			cp.CreatedBy = red
			out = &cp
		}
		refs[ref] = out
		return out
	}
	r.Packages = append([]inventory.Package(nil), r.Packages...)
	for i := range r.Packages {
		r.Packages[i].Layer = fix(r.Packages[i].Layer)
	}
	for i := range r.Vulnerabilities {
		r.Vulnerabilities[i].Layer = fix(r.Vulnerabilities[i].Layer)
	}
	for i := range r.Secrets {
		r.Secrets[i].Layer = fix(r.Secrets[i].Layer)
	}
}

// redactEnv masks the secrets in one NAME=value entry. Private keys, which
// the scanner records by their BEGIN line only, mask the whole value, as
// does any hit RedactText cannot locate.
func redactEnv(e string) string {
	name, value, _ := strings.Cut(e, "=")
	if value != "" && !strings.HasPrefix(value, "/") && sensitiveName.MatchString(name) {
		// The best-practice check (CIS-DI-0010) flags such variables by name
		// even when the value does not look random enough for the secret
		// scanner; the report must not print what it flags.
		return name + "=" + secrets.Redact(value)
	}
	hits := secrets.ScanConfig(&inventory.ImageConfig{Env: []string{e}})
	if len(hits) == 0 {
		return e
	}
	whole := false
	for _, h := range hits {
		whole = whole || h.Rule == secrets.RulePrivateKey
	}
	if !whole {
		if red, changed := secrets.RedactText(e); changed {
			return red
		}
	}
	return name + "=" + secrets.Redact(value)
}

// sensitiveName matches variable names that hold credentials. File paths
// (PASSWORD_FILE=/run/secrets/db) are left readable.
var sensitiveName = regexp.MustCompile(`(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)`)
