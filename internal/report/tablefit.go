package report

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-scan/vigil/internal/result"
)

// DefaultWidth is the table width when the caller knows none (not a
// terminal, no COLUMNS).
const DefaultWidth = 80

// minWrapWidth is the narrowest a wrapped column gets: below it a title
// is unreadable, so the row overflows instead.
const minWrapWidth = 16

// maxWrapLines caps a wrapped cell; the rest is cut with "…".
const maxWrapLines = 3

// fit wraps column col so the table fits in width columns. Only that
// column (a title, alerts) is wrapped: ids, versions and names never are,
// so they stay searchable and copyable. A row whose other columns alone
// overflow the width is left as wide as it must be.
func (t *textTable) fit(width, col int) {
	if width <= 0 || col < 0 || col >= len(t.header) {
		return
	}
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	others := 2 * (len(widths) - 1)
	for i, w := range widths {
		if i != col {
			others += w
		}
	}
	avail := max(width-others, minWrapWidth, utf8.RuneCountInString(t.header[col]))
	if widths[col] <= avail {
		return
	}
	var rows [][]string
	for _, r := range t.rows {
		lines := wrapWords(r[col], avail, maxWrapLines)
		for j, l := range lines {
			row := make([]string, len(r))
			if j == 0 {
				copy(row, r)
			}
			row[col] = l
			rows = append(rows, row)
		}
	}
	t.rows = rows
}

// wrapWords breaks s into lines of at most n runes at spaces (a word
// longer than n is cut), at most maxLines lines, the last ending in "…"
// when text was left out.
func wrapWords(s string, n, maxLines int) []string {
	var lines []string
	cur := ""
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case cur == "" && utf8.RuneCountInString(w) > n:
			r := []rune(w)
			lines = append(lines, string(r[:n]))
			words[i] = string(r[n:])
			i--
			continue
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= n:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = ""
			i--
			continue
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = truncate(lines[maxLines-1]+" …", n)
		if !strings.HasSuffix(lines[maxLines-1], "…") {
			lines[maxLines-1] = truncate(lines[maxLines-1], n-1) + "…"
		}
	}
	return lines
}

// tableHeader is what a reader needs before the findings: which image,
// which OS release, how many packages, how old the DB is, and what the
// scan could not judge.
func tableHeader(ew *errWriter, r *result.Report) {
	a := r.Artifact
	img := artifactName(a)
	if a.Digest != "" && a.Digest != img {
		img += " (" + shortDigest(a.Digest) + ")"
	}
	ew.printf("Image:      %s\n", img)
	osLine := "unknown"
	if a.OS.Known() {
		osLine = strings.TrimSpace(a.OS.Family + " " + a.OS.Version)
		if a.OS.Name != "" {
			osLine = a.OS.Name + " (" + osLine + ")"
		}
	}
	ew.printf("OS:         %s\n", osLine)
	ew.printf("Packages:   %d\n", len(r.Packages))
	if r.DB != nil && !r.DB.Built.IsZero() {
		ew.printf("DB:         built %s (%s)\n", r.DB.Built.UTC().Format(time.DateOnly), dbAge(r.DB.Built, r.CreatedAt))
	}
	nj := notJudged(r)
	if len(nj) == 0 {
		ew.printf("Not judged: nothing reported\n")
	} else {
		ew.printf("Not judged: %s\n", nj[0])
		for _, l := range nj[1:] {
			ew.printf("            %s\n", l)
		}
	}
	ew.printf("\n")
}

// dbAge says how old the DB was when the report was made (not "now", so a
// saved report renders the same tomorrow).
func dbAge(built, at time.Time) string {
	if at.IsZero() {
		return "age unknown"
	}
	d := at.Sub(built)
	switch days := int(d.Hours() / 24); {
	case d < 0:
		return "newer than the scan"
	case days == 0:
		return "less than a day before the scan"
	case days == 1:
		return "1 day before the scan"
	default:
		return fmt.Sprintf("%d days before the scan", days)
	}
}

func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

// notJudged lists what the scan could not judge.
//
// HOOK (issue 9 item 2): the structured "not judged / unsupported OS" data
// another change adds to result.Report belongs here; until it is on main,
// the warnings that say packages were skipped or unmatched stand in.
func notJudged(r *result.Report) []string {
	var out []string
	for _, n := range r.NotJudged {
		out = append(out, oneLine(n.String()))
	}
	for _, w := range r.Warnings {
		lw := strings.ToLower(w)
		if strings.Contains(lw, "skipped") || strings.Contains(lw, "not matched") || strings.Contains(lw, "no data") || strings.Contains(lw, "unsupported") {
			out = append(out, w)
		}
	}
	return out
}
