// Package debian owns Debian support: the dpkg status cataloger (including
// the distroless status.d layout), the codename-to-release table, and the
// parsers of the Debian security tracker's JSON feed and DSA/DLA lists.
package debian

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// dpkg database locations.
const (
	StatusPath = "var/lib/dpkg/status"
	StatusDir  = "var/lib/dpkg/status.d/"
)

// Limits that keep a hostile status file from using unbounded memory. The
// largest real status files hold a few thousand packages; long lines come
// from Depends and Description fields, well under 64 KiB.
const (
	maxLineLength = 1 << 20
	maxPackages   = 200_000
)

// Analyzers returns the Debian catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{
		// Rev 2: triggers-pending/-awaited count as installed.
		ecosystem.StreamCataloger{ID: "dpkg", Rev: 2, Paths: []string{StatusPath, StatusDir}, Match: isStatusFile, Parse: parseStatus},
		fileListAnalyzer{},
	}
}

// isStatusFile claims the status file and each file directly in status.d
// (distroless images write one stanza file per package there), except the
// *.md5sums files that sit beside them.
func isStatusFile(path string) bool {
	if path == StatusPath {
		return true
	}
	name, ok := strings.CutPrefix(path, StatusDir)
	return ok && name != "" && !strings.Contains(name, "/") && !strings.HasSuffix(name, ".md5sums")
}

// dpkgStanza holds the fields of one status paragraph that Vigil reports.
type dpkgStanza struct {
	line                                int
	fields                              int
	name, version, arch, source, status string
	hasStatus                           bool
}

// parseStatus reads a dpkg status file: blank-line separated paragraphs of
// "Field: value" lines with indented continuation lines. Only installed
// packages are reported. In dpkg's own database (var/lib/dpkg/status) a
// paragraph without Status is not installed, as dpkg reads it (dpkg only
// writes such paragraphs for packages it merely knows of). A status.d file
// is not written by dpkg: distroless and similar builders put the control
// file of each installed package there, without a Status line (see the
// corpus' syft-distroless fixture and trivy's status-dir test data), so
// there a missing Status means installed and a present one is honoured.
// Paragraphs without a name or version are skipped with a warning; a line
// that is neither a field nor a continuation is an error.
func parseStatus(ctx context.Context, r io.Reader, path string) ([]inventory.Package, []string, error) {
	var (
		pkgs     []inventory.Package
		warnings []string
		cur      dpkgStanza
	)
	statusRequired := !strings.HasPrefix(path, StatusDir)
	flush := func() error {
		s := cur
		cur = dpkgStanza{}
		switch {
		case s.fields == 0:
			return nil
		case s.name == "" || s.version == "":
			warnings = append(warnings, fmt.Sprintf("%s: paragraph at line %d has no package name or version; skipped", path, s.line))
			return nil
		case s.hasStatus && !installed(s.status):
			return nil
		case !s.hasStatus && statusRequired:
			return nil
		case len(pkgs) >= maxPackages:
			return fmt.Errorf("more than %d packages", maxPackages)
		}
		pkgs = append(pkgs, s.toPackage(path))
		return nil
	}
	err := ecosystem.ScanLines(ctx, r, maxLineLength, func(lineNo int, line string) error {
		if strings.TrimSpace(line) == "" {
			return flush()
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur.fields == 0 {
				return fmt.Errorf("line %d: continuation line outside a field", lineNo)
			}
			return nil
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return fmt.Errorf("line %d: not a \"Field: value\" line", lineNo)
		}
		if cur.fields == 0 {
			cur.line = lineNo
		}
		cur.fields++
		value = strings.TrimSpace(value)
		// Field names are case-insensitive (deb-control(5)).
		switch strings.ToLower(key) {
		case "package":
			cur.name = value
		case "version":
			cur.version = value
		case "architecture":
			cur.arch = value
		case "source":
			cur.source = value
		case "status":
			cur.status, cur.hasStatus = value, true
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, nil, err
	}
	return pkgs, warnings, nil
}

// installed reports whether a Status value ("want flag state") says the
// package is configured, as dpkg counts it: installed, or configured with
// its triggers still pending or awaited (dpkg's "status >=
// triggers-awaited"); its files are all in place. Half-installed,
// unpacked, half-configured and config-files states are not.
func installed(status string) bool {
	f := strings.Fields(status)
	if len(f) != 3 {
		return false
	}
	switch f[2] {
	case "installed", "triggers-pending", "triggers-awaited":
		return true
	}
	return false
}

func (s dpkgStanza) toPackage(path string) inventory.Package {
	// "Source: name (version)" when the source version differs, "Source:
	// name" when it equals the binary's, absent when the names match too.
	src := inventory.SourcePackage{Name: s.name, Version: s.version}
	if s.source != "" {
		name, rest, hasVersion := strings.Cut(s.source, " ")
		src.Name = name
		if hasVersion {
			if v := strings.Trim(strings.TrimSpace(rest), "()"); v != "" {
				src.Version = strings.TrimSpace(v)
			}
		}
	}
	return inventory.Package{
		Name:    s.name,
		Version: s.version,
		Type:    inventory.TypeDeb,
		PURL:    purl(s.name, s.version, s.arch),
		Source:  &src,
		Path:    path,
		Arch:    s.arch,
	}
}

// purl uses the "debian" namespace: an Ubuntu status file looks the same;
// image.Read sets the namespace to the distro once the image's OS is known.
func purl(name, version, arch string) string {
	var q packageurl.Qualifiers
	if arch != "" {
		q = packageurl.QualifiersFromMap(map[string]string{"arch": arch})
	}
	return packageurl.NewPackageURL(packageurl.TypeDebian, "debian", name, version, q, "").ToString()
}
