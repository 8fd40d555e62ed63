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
func tableHeader(ew *errWriter, r *result.Report, width int) {
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
	if !vulnsScanned(r) {
		ew.printf("Vulnerabilities: not scanned (vigil lint, or --scanners without vuln)\n")
	} else if len(nj) == 0 {
		ew.printf("Not judged: nothing reported\n")
	}
	// Each entry wrapped under the label, so a long message stays
	// readable at 80 columns; a continuation is indented two more.
	const indent = "            "
	for i, entry := range nj {
		label := indent
		if i == 0 {
			label = "Not judged: "
		}
		for j, l := range wrapWords(entry, max(width-len(indent)-2, minWrapWidth), 4) {
			if j > 0 {
				label = indent + "  "
			}
			ew.printf("%s%s\n", label, l)
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

// notJudged lists what the scan could not judge: the report's structured
// entries (OS releases and ecosystems with no data or no version rules,
// end-of-life releases, stale feeds), then one line for single packages
// the matcher could not compare (no or unparsable version), which only
// its warnings name. Warnings already covered by an entry (a whole
// ecosystem skipped) are not repeated.
func notJudged(r *result.Report) []string {
	var out []string
	for _, n := range r.NotJudged {
		out = append(out, oneLine(n.String()))
	}
	unmatched := 0
	for _, w := range r.Warnings {
		if strings.HasSuffix(w, "; not matched") || strings.Contains(w, "not comparable, not matched") {
			unmatched++
		}
	}
	if unmatched > 0 {
		out = append(out, fmt.Sprintf("%d %s with no comparable version (not matched; see the warnings)", unmatched, plural(unmatched, "package", "packages")))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// vulnsScanned: a report without DB information and without findings was
// made without vulnerability matching (`vigil lint`, `--scanners secret`);
// its table says so instead of "Total: 0", which reads like a clean image.
func vulnsScanned(r *result.Report) bool {
	return r.DB != nil || len(r.Vulnerabilities) > 0 || len(r.NotJudged) > 0
}
