package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

var severityColor = map[string]string{
	vuln.SeverityCritical:   "\x1b[1;31m",
	vuln.SeverityHigh:       "\x1b[31m",
	vuln.SeverityMedium:     "\x1b[33m",
	vuln.SeverityLow:        "\x1b[34m",
	vuln.SeverityNegligible: "\x1b[36m",
	vuln.SeverityUnknown:    "\x1b[37m",
	result.LevelFatal:       "\x1b[1;31m",
	result.LevelWarn:        "\x1b[33m",
	result.LevelInfo:        "\x1b[34m",
}

const colorReset = "\x1b[0m"

// textTable is a plain aligned table; widths are measured on the text
// before colouring so ANSI codes never break alignment (text/tabwriter
// would count them as width).
type textTable struct {
	header   []string
	rows     [][]string
	colorCol int // column whose value picks a colour, -1 for none
}

func (t *textTable) write(w io.Writer, color bool) error {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(cells []string, colored bool) {
		for i, c := range cells {
			pad := widths[i] - utf8.RuneCountInString(c)
			text := c
			if colored && color && i == t.colorCol {
				if code, ok := severityColor[c]; ok {
					text = code + c + colorReset
				}
			}
			b.WriteString(text)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", pad+2))
			}
		}
		trimmed := strings.TrimRight(b.String(), " ")
		b.Reset()
		b.WriteString(trimmed)
		b.WriteByte('\n')
	}
	line(t.header, false)
	sep := make([]string, len(widths))
	for i, n := range widths {
		sep[i] = strings.Repeat("─", n)
	}
	line(sep, false)
	for _, r := range t.rows {
		line(r, true)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(w io.Writer, r *result.Report, opts Options) error {
	ew := &errWriter{w: w}
	if opts.SBOMOnly {
		writePackageTable(ew, r, opts)
		return ew.err
	}
	width := opts.Width
	if width <= 0 {
		width = DefaultWidth
	}
	tableHeader(ew, r, width)
	sum := summarize(r)
	for _, g := range groupByTarget(r.Artifact, r.Vulnerabilities) {
		t := &textTable{
			header:   []string{"LIBRARY", "VULNERABILITY ID", "SEVERITY", "STATUS", "INSTALLED", "FIXED", "TITLE"},
			colorCol: 2,
		}
		suppressed := 0
		var owners []string // OS packages whose installs' findings were suppressed
		for _, f := range g.Findings {
			if s := f.Suppressed; s != nil {
				suppressed++
				if o := s.Owner; o != nil && !slices.Contains(owners, o.Type+" package "+o.Name) {
					owners = append(owners, o.Type+" package "+o.Name)
				}
				continue
			}
			t.rows = append(t.rows, []string{f.Package.Name, f.ID, f.Severity, string(f.FixState),
				f.Package.Version, fixedIn(f), title(f)})
		}
		t.fit(width, 6)
		ew.printf("%s\n", g.Target)
		why := ""
		if len(owners) > 0 {
			why = "; installed by the " + strings.Join(owners, ", the ") + ": its distribution's advisories apply"
		}
		// The owner note can be long: wrapped to the width like titles.
		note := func(format string) {
			for _, line := range wrapWords(fmt.Sprintf(format, suppressed, why), width, 4) {
				ew.printf("%s\n", line)
			}
		}
		if len(t.rows) == 0 {
			note("No unsuppressed vulnerabilities (%d suppressed%s).")
			ew.printf("\n")
			continue
		}
		ew.do(func(w io.Writer) error { return t.write(w, opts.Color) })
		if suppressed > 0 {
			note("(%d suppressed%s)")
		}
		ew.printf("\n")
	}
	if checks := violatedChecks(r.Checks); len(checks) > 0 {
		t := &textTable{header: []string{"CODE", "LEVEL", "TITLE", "ALERTS"}, colorCol: 1}
		for _, c := range checks {
			level := c.Level
			if c.Suppressed != nil {
				level += " (suppressed)"
			}
			t.rows = append(t.rows, []string{c.Code, level, c.Title, truncate(oneLine(strings.Join(c.Alerts, "; ")), 40)})
		}
		t.fit(width, 2)
		ew.printf("Best-practice checks\n")
		ew.do(func(w io.Writer) error { return t.write(w, opts.Color) })
		ew.printf("\n")
	}
	if len(r.Secrets) > 0 {
		t := &textTable{header: []string{"RULE", "SEVERITY", "FILE:LINE", "LAYER", "MATCH"}, colorCol: 1}
		for _, s := range sortedSecrets(r.Secrets) {
			if s.Suppressed != nil {
				continue
			}
			loc := s.Path
			if s.Line > 0 {
				loc += ":" + strconv.Itoa(s.Line)
			}
			layer := ""
			if s.Layer != nil {
				layer = shortDiffID(s.Layer.DiffID)
			}
			t.rows = append(t.rows, []string{s.Rule, s.Severity, loc, layer, truncate(oneLine(s.Match), 60)})
		}
		if len(t.rows) > 0 {
			ew.printf("Secrets\n")
			ew.do(func(w io.Writer) error { return t.write(w, opts.Color) })
			ew.printf("\n")
		}
	}
	if vulnsScanned(r) {
		ew.printf("%s\n", totalLine(sum))
	}
	if g := gateLine(r); g != "" {
		ew.printf("%s\n", g)
	}
	return ew.err
}

// totalLine is the closing count line of the table and markdown formats.
func totalLine(s result.Summary) string {
	parts := make([]string, 0, len(severityOrder))
	for _, sev := range severityOrder {
		if sev == vuln.SeverityNegligible && s.BySeverity[sev] == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %d", sev, s.BySeverity[sev]))
	}
	return fmt.Sprintf("Total: %d (%s) · %d fixable · %d suppressed", s.Total, strings.Join(parts, ", "), s.Fixable, s.Suppressed)
}

func writePackageTable(ew *errWriter, r *result.Report, opts Options) {
	t := &textTable{header: []string{"NAME", "VERSION", "TYPE", "PATH", "LAYER", "BASE"}, colorCol: -1}
	// OWNER (the OS package that installed a language package) only
	// when some package has one.
	owners := slices.ContainsFunc(r.Packages, func(p inventory.Package) bool { return p.Owner != nil })
	if owners {
		t.header = append(t.header, "OWNER")
	}
	for _, p := range sortedPackages(r.Packages) {
		layer, base := "", ""
		if p.Layer != nil {
			layer = shortDiffID(p.Layer.DiffID)
			if p.Layer.Base {
				base = "yes"
			}
		}
		row := []string{p.Name, p.Version, p.Type, p.Path, layer, base}
		if owners {
			owner := ""
			if p.Owner != nil {
				owner = p.Owner.Type + ":" + p.Owner.Name
			}
			row = append(row, owner)
		}
		t.rows = append(t.rows, row)
	}
	ew.printf("%s — %s\n", artifactName(r.Artifact), osTarget(r.Artifact.OS))
	ew.do(func(w io.Writer) error { return t.write(w, opts.Color) })
	ew.printf("Packages: %d\n", len(r.Packages))
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) do(fn func(io.Writer) error) {
	if e.err == nil {
		e.err = fn(e.w)
	}
}
