// Package report renders a result.Report in the formats users and CI
// systems read. Each format lives in its own file; Write dispatches.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vigil-scan/vigil/internal/result"
)

// Options tune rendering.
type Options struct {
	// Color enables ANSI severity colours in the table format; WriteAll
	// uses it for standard output only.
	Color bool
	// Dockerfile, when set, is the path SARIF results point at.
	Dockerfile string
	// SBOMOnly renders an inventory without vulnerability sections.
	SBOMOnly bool
	// MaxRows caps the findings listed by the markdown format (0 means 50).
	MaxRows int
	// Width is the table format's line width (0 means DefaultWidth): the
	// title column wraps to fit it.
	Width int
}

// A writer renders one format.
type writer func(w io.Writer, r *result.Report, opts Options) error

var writers = map[string]writer{
	"table":          writeTable,
	"json":           writeJSON,
	"sarif":          writeSARIF,
	"cyclonedx":      writeCycloneDX,
	"cyclonedx-json": writeCycloneDX,
	"spdx-json":      writeSPDX,
	"junit":          writeJUnit,
	"gitlab":         writeGitLab,
	"containerscan":  writeContainerScan,
	"markdown":       writeMarkdown,
}

// Formats lists the supported format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(writers))
	for n := range writers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Write renders r in the named format.
func Write(w io.Writer, format string, r *result.Report, opts Options) error {
	fn, ok := writers[format]
	if !ok {
		return fmt.Errorf("unknown format %q (supported: %s)", format, strings.Join(Formats(), ", "))
	}
	if r == nil {
		return fmt.Errorf("rendering %s: no report", format)
	}
	if err := fn(w, r, opts); err != nil {
		return fmt.Errorf("rendering %s: %w", format, err)
	}
	return nil
}

func writeJSON(w io.Writer, r *result.Report, opts Options) error {
	if opts.SBOMOnly {
		return encodeIndented(w, struct {
			SchemaVersion string      `json:"schema_version"`
			Tool          result.Tool `json:"tool"`
			Artifact      any         `json:"artifact"`
			Packages      any         `json:"packages"`
			Warnings      []string    `json:"warnings,omitempty"`
		}{r.SchemaVersion, r.Tool, r.Artifact, r.Packages, r.Warnings}, "  ")
	}
	return writeReportJSON(w, r)
}
