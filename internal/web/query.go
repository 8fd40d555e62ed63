package web

import (
	"net/url"
	"slices"
	"strings"
)

// Filters and sorting live in the URL so every view can be linked and
// bookmarked. Values outside the known sets are dropped, never passed on.

const pageSize = 50

var findingSorts = []string{"severity", "cvss", "epss", "package", "id", "first_seen"}

func oneOf(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return ""
}

// tokenParam is a page token from the URL: opaque to the UI, bounded in
// size and restricted to URL-safe characters; the backend validates it.
func tokenParam(v url.Values, key string) string {
	t := v.Get(key)
	if len(t) > 200 {
		return ""
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return ""
		}
	}
	return t
}

func severityParam(v url.Values) string {
	return oneOf(strings.ToUpper(v.Get("severity")), Severities)
}

func findingQuery(v url.Values) FindingQuery {
	return FindingQuery{
		Severity:  severityParam(v),
		Fixable:   v.Get("fixable") == "1",
		KEV:       v.Get("kev") == "1",
		State:     oneOf(v.Get("state"), []string{"all", "suppressed", "resolved"}),
		BaseLayer: oneOf(v.Get("layer"), []string{"base", "own"}),
		Text:      limitText(v.Get("q")),
		Sort:      oneOf(v.Get("sort"), findingSorts),
		Desc:      v.Get("dir") == "desc",
		After:     tokenParam(v, "page"),
		Limit:     pageSize,
	}
}

func imageQuery(v url.Values) ImageQuery {
	return ImageQuery{
		Severity: severityParam(v),
		Running:  v.Get("running") == "1",
		Text:     limitText(v.Get("q")),
		After:    tokenParam(v, "page"),
		Limit:    pageSize,
	}
}

// limitText bounds free text from the URL.
func limitText(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// link builds URLs that keep the current filters and change one of them;
// templates call it as {{$.Data.Link.Set "sort" "cvss"}}.
type link struct {
	path string
	v    url.Values
}

func newLink(path string, v url.Values) link {
	c := url.Values{}
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" {
			c.Set(k, vs[0])
		}
	}
	return link{path: path, v: c}
}

func (l link) with(kv ...string) link {
	c := url.Values{}
	for k, vs := range l.v {
		c[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			c.Del(kv[i])
		} else {
			c.Set(kv[i], kv[i+1])
		}
	}
	return link{path: l.path, v: c}
}

// Set changes one parameter and goes back to the first page.
func (l link) Set(k, val string) string {
	if k == "page" {
		return l.with(k, val).String()
	}
	return l.with(k, val, "page", "").String()
}

// Sort links a column header: the same column flips the direction.
func (l link) Sort(col string) string {
	dir := ""
	if l.v.Get("sort") == col && l.v.Get("dir") != "desc" {
		dir = "desc"
	}
	return l.with("sort", col, "dir", dir, "page", "").String()
}

// SortState is "ascending", "descending" or "none" for aria-sort.
func (l link) SortState(col, dflt string) string {
	cur := l.v.Get("sort")
	if cur == "" {
		cur = dflt
	}
	if cur != col {
		return "none"
	}
	if l.v.Get("dir") == "desc" {
		return "descending"
	}
	return "ascending"
}

// Get is the current value of a parameter.
func (l link) Get(k string) string { return l.v.Get(k) }

// Path is the URL without the query.
func (l link) Path() string { return l.path }

func (l link) String() string {
	if len(l.v) == 0 {
		return l.path
	}
	return l.path + "?" + l.v.Encode()
}

// pager links the pages of one list. Pagination is by token, so it offers
// the first page and the next one.
type pager struct {
	Link   link
	Param  string
	Token  string // current page's token ("" on the first)
	NextT  string
	Length int
	Total  int
}

func newPager(l link, param, current string, n int, next string, total int) pager {
	return pager{Link: l, Param: param, Token: current, NextT: next, Length: n, Total: total}
}

// First is the first page's URL, "" when on it.
func (p pager) First() string {
	if p.Token == "" {
		return ""
	}
	return p.Link.with(p.Param, "").String()
}

// Next is the next page's URL, "" on the last page.
func (p pager) Next() string {
	if p.NextT == "" {
		return ""
	}
	return p.Link.with(p.Param, p.NextT).String()
}
