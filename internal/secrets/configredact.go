package secrets

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// minSharedSecret is the shortest secret masked wherever it appears in the
// config rather than only in the field it was found in: a short value
// ("PASSWORD=hunter") replaced everywhere would mangle unrelated words.
const minSharedSecret = 6

// Redactor masks, in any text derived from one image config, every secret
// found anywhere in that config: a token found in an ENV value is masked in
// the history step that set it too, even where the rules alone would not
// recognise it. The zero value masks only what the rules find.
type Redactor struct {
	repl *strings.Replacer
}

// Text returns s with every known secret of the config masked, plus any
// secret the rules find in s itself and the body of any PEM private key.
func (r *Redactor) Text(s string) string {
	if s == "" {
		return s
	}
	s = maskPEMBodies(s)
	if r != nil && r.repl != nil {
		s = r.repl.Replace(s)
	}
	s, _ = RedactText(s)
	return s
}

func (r *Redactor) texts(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = r.Text(s)
	}
	return out
}

// RedactConfig is the one place where an image config loses its secrets:
// it returns a copy of cfg with every secret masked in every field an
// output can print (Env, Labels, Cmd, Entrypoint, Healthcheck, OnBuild,
// history created_by and comment), and the Redactor that masks the same
// secrets in other text derived from the config (layer created_by, check
// alerts). The image reader calls it before anything else sees the config,
// so no report, SBOM, stored inventory or published payload can print the
// clear text. cfg itself is not modified; nil gives nil and a Redactor
// that masks only what the rules find.
func RedactConfig(cfg *inventory.ImageConfig) (*inventory.ImageConfig, *Redactor) {
	if cfg == nil {
		return nil, &Redactor{}
	}
	r := &Redactor{}
	if found := configSecrets(cfg); len(found) > 0 {
		// Longest first, so a secret that contains another is masked whole.
		slices.SortFunc(found, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
		pairs := make([]string, 0, 2*len(found))
		for _, s := range found {
			pairs = append(pairs, s, Redact(s))
		}
		r.repl = strings.NewReplacer(pairs...)
	}
	c := *cfg
	c.Env = make([]string, len(cfg.Env))
	for i, e := range cfg.Env {
		name, value, ok := strings.Cut(e, "=")
		if ok && sensitiveValue(name, value) {
			// Masked whole, as the best-practice check flags it by name.
			c.Env[i] = name + "=" + Redact(value)
			continue
		}
		c.Env[i] = r.Text(e)
	}
	if cfg.Env == nil {
		c.Env = nil
	}
	if cfg.Labels != nil {
		c.Labels = make(map[string]string, len(cfg.Labels))
		for k, v := range cfg.Labels {
			if sensitiveValue(k, v) {
				c.Labels[r.Text(k)] = Redact(v)
				continue
			}
			c.Labels[r.Text(k)] = r.Text(v)
		}
	}
	c.Cmd = r.texts(cfg.Cmd)
	c.Entrypoint = r.texts(cfg.Entrypoint)
	c.Healthcheck = r.texts(cfg.Healthcheck)
	c.OnBuild = r.texts(cfg.OnBuild)
	c.User = r.Text(cfg.User)
	c.WorkingDir = r.Text(cfg.WorkingDir)
	c.Volumes = r.texts(cfg.Volumes)
	if cfg.History != nil {
		c.History = make([]inventory.HistoryEntry, len(cfg.History))
		for i, h := range cfg.History {
			h.CreatedBy = r.Text(h.CreatedBy)
			h.Comment = r.Text(h.Comment)
			c.History[i] = h
		}
	}
	return &c, r
}

// configSecrets returns the clear text of every secret in the config worth
// masking wherever it appears: what the rules find in each field, and the
// values of variables and labels whose names mark credentials.
func configSecrets(cfg *inventory.ImageConfig) []string {
	s := defaultScanner()
	seen := map[string]bool{}
	var out []string
	add := func(secret string) {
		if len(secret) >= minSharedSecret && !seen[secret] {
			seen[secret] = true
			out = append(out, secret)
		}
	}
	scan := func(text string) {
		for _, h := range s.scan([]byte(text), true) {
			if h.rule.ID != RulePrivateKey { // PEM bodies are masked by maskPEMBodies
				add(h.secret)
			}
		}
	}
	for _, e := range cfg.Env {
		name, value, _ := strings.Cut(e, "=")
		if sensitiveValue(name, value) {
			add(value)
		}
		scan(e)
	}
	for k, v := range cfg.Labels {
		if sensitiveValue(k, v) {
			add(v)
		}
		scan(k + "=" + v)
	}
	for _, list := range [][]string{cfg.Cmd, cfg.Entrypoint, cfg.Healthcheck, cfg.OnBuild} {
		if len(list) > 0 {
			scan(strings.Join(list, " "))
		}
	}
	for _, h := range cfg.History {
		scan(h.CreatedBy)
		scan(h.Comment)
	}
	return out
}

// sensitiveValue reports whether a variable or label holds a credential by
// its name alone (DB_PASSWORD=..., api-key=...): the best-practice check
// (CIS-DI-0010) flags such entries even when the value does not look random
// enough for the rules, so outputs must not print it. File paths and
// references to other variables stay readable.
func sensitiveValue(name, value string) bool {
	if value == "" || strings.HasPrefix(value, "/") || strings.HasPrefix(value, "$") {
		return false
	}
	return sensitiveName.MatchString(name) && !publicName.MatchString(name)
}

// sensitiveName matches names of variables that hold credentials.
var sensitiveName = regexp.MustCompile(`(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)`)

// publicName matches names that only look sensitive: public keys and where
// a credential is found rather than the credential itself.
var publicName = regexp.MustCompile(`(?i)(gpg|pgp|public)[_-]?keys?$|_(file|path|dir|url|uri|endpoint)$|^(old)?pwd$`)

// pemBegin finds the BEGIN line of a PEM private key.
var pemBegin = regexp.MustCompile(`-----BEGIN[ A-Z0-9]{0,32} PRIVATE KEY(?: BLOCK)?-----`)

// maskPEMBodies masks the key material after every private key BEGIN line
// up to its END line, or to the end of s when the END line is missing (a
// key cut by a quote or a truncated history entry). The rules report a key
// by its BEGIN line, which says nothing secret; the body is the secret.
func maskPEMBodies(s string) string {
	locs := pemBegin.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		if loc[0] < last {
			continue // inside a body already masked
		}
		b.WriteString(s[last:loc[1]])
		body := s[loc[1]:]
		end := strings.Index(body, "-----END")
		if end < 0 {
			end = len(body)
		}
		if strings.TrimSpace(body[:end]) != "" {
			b.WriteString("****")
		}
		last = loc[1] + end
	}
	b.WriteString(s[last:])
	return b.String()
}

// RedactArtifact masks the secrets of an artifact's config in the config
// and in every layer's created_by and comment, which repeat its history.
// It returns the clear config it replaced, for the scanners that judge it.
func RedactArtifact(a *inventory.Artifact) (unredacted *inventory.ImageConfig) {
	unredacted = a.Config
	var red *Redactor
	a.Config, red = RedactConfig(a.Config)
	if a.Layers != nil {
		layers := make([]inventory.Layer, len(a.Layers))
		for i, l := range a.Layers {
			l.CreatedBy, l.Comment = red.Text(l.CreatedBy), red.Text(l.Comment)
			layers[i] = l
		}
		a.Layers = layers
	}
	return unredacted
}

// RedactReport masks the config secrets of a report that did not come from
// this process's image reader (a report file given to `vigil publish`,
// written by another tool or version): its artifact and the layer
// references of its packages and findings. Reports Vigil builds were masked
// when the image was read; masking them again changes nothing.
func RedactReport(r *result.Report) {
	_, red := RedactConfig(r.Artifact.Config)
	RedactArtifact(&r.Artifact)
	refs := map[*inventory.LayerRef]*inventory.LayerRef{}
	fix := func(ref *inventory.LayerRef) *inventory.LayerRef {
		if ref == nil {
			return nil
		}
		if done, ok := refs[ref]; ok {
			return done
		}
		masked := red.Text(ref.CreatedBy)
		if masked == ref.CreatedBy {
			refs[ref] = ref
			return ref
		}
		cp := *ref
		cp.CreatedBy = masked
		refs[ref] = &cp
		return &cp
	}
	r.Packages = fixLayers(r.Packages, func(p *inventory.Package) **inventory.LayerRef { return &p.Layer }, fix)
	r.Vulnerabilities = fixLayers(r.Vulnerabilities, func(f *vuln.Finding) **inventory.LayerRef { return &f.Layer }, fix)
	r.Secrets = slices.Clone(r.Secrets)
	for i := range r.Secrets {
		r.Secrets[i].Layer = fix(r.Secrets[i].Layer)
	}
	r.Checks = slices.Clone(r.Checks)
	for i := range r.Checks {
		r.Checks[i].Alerts = red.texts(r.Checks[i].Alerts)
	}
}

// LayerMasker masks the created_by of layer references as RedactReport
// does, for a report streamed an element at a time (the publish client
// and server): each distinct text is masked once, since the same few
// layers recur in every element. Redactor is the report config's (nil:
// what the rules find); set it before the first Mask.
type LayerMasker struct {
	Redactor *Redactor
	seen     map[string]string
}

// Mask returns a copy of ref with created_by masked (nil for nil).
func (m *LayerMasker) Mask(ref *inventory.LayerRef) *inventory.LayerRef {
	if ref == nil {
		return nil
	}
	if m.seen == nil {
		m.seen = map[string]string{}
	}
	cp := *ref
	masked, ok := m.seen[ref.CreatedBy]
	if !ok {
		masked = m.Redactor.Text(ref.CreatedBy)
		m.seen[ref.CreatedBy] = masked
	}
	cp.CreatedBy = masked
	return &cp
}

// fixLayers gives the elements of s the layer references fix returns,
// copying s (which the caller's inventory may share) only when one
// changes: a copy of the packages of a 700,000-package SBOM was the peak
// of `vigil sbom-scan` (issue 8 item 8).
func fixLayers[T any](s []T, layer func(*T) **inventory.LayerRef, fix func(*inventory.LayerRef) *inventory.LayerRef) []T {
	cloned := false
	for i := range s {
		old := *layer(&s[i])
		ref := fix(old)
		if ref == old {
			continue
		}
		if !cloned {
			s, cloned = slices.Clone(s), true
		}
		*layer(&s[i]) = ref
	}
	return s
}
