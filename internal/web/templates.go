package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"
)

// parseTemplates builds one template set per page: the layout and the
// shared partials plus the page's own file, which defines "content".
func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.tmpl", "templates/partials.tmpl")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".tmpl")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", f, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"lower":       strings.ToLower,
	"join":        strings.Join,
	"sevClass":    func(s string) string { return "sev-" + strings.ToLower(s) },
	"shortDigest": shortDigest,
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ago": ago,
	"cvss": func(f float64) string {
		if f <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f", f)
	},
	"pct": func(f float64) string {
		if f < 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", f*100)
	},
	"imageURL": func(digest string) string { return "/images/" + url.PathEscape(digest) },
	"findingURL": func(digest, key string) string {
		return "/images/" + url.PathEscape(digest) + "/findings/" + url.PathEscape(key)
	},
	"repoURL": func(id, repo string) string {
		return "/registries/" + url.PathEscape(id) + "/repositories/" + escapePathKeepSlash(repo)
	},
	"registryURL": func(id string) string { return "/registries/" + url.PathEscape(id) },
	"severities":  func() []string { return Severities },
	"searchURL":   func(q string) string { return "/search?q=" + url.QueryEscape(q) },
	"httpURL": func(s string) string {
		// Only http(s) links leave the site; anything else is shown as text.
		if u, err := url.Parse(s); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return s
		}
		return ""
	},
	"add":    func(a, b int) int { return a + b },
	"f1":     func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"ciName": ciProviderName,
	"shortSHA": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"branch": func(ref string) string {
		ref = strings.TrimPrefix(ref, "refs/heads/")
		return ref
	},
}

func escapePathKeepSlash(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) < 12 {
		return d
	}
	return hex[:12]
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

func ciProviderName(p string) string {
	switch p {
	case "github-actions", "githubAction":
		return "GitHub Actions"
	case "azure-pipelines":
		return "Azure Pipelines"
	case "gitlab-ci":
		return "GitLab CI"
	case "":
		return "CI"
	}
	return p
}
