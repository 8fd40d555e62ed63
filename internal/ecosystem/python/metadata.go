package python

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// maxHeaderLine bounds one header line; longer ones are an error.
const maxHeaderLine = 1 << 20

// metadata is the part of a core-metadata file (PEP 566, RFC 822 style
// headers) the cataloger reads.
type metadata struct {
	Name, Version      string
	License            string
	LicenseExpression  string
	licenseClassifiers []string
}

// parseMetadataFile reads METADATA or PKG-INFO of an installed
// distribution.
func parseMetadataFile(path string, content []byte) ([]inventory.Package, error) {
	m, err := parseMetadata(content)
	if err != nil {
		return nil, err
	}
	return []inventory.Package{newPackage(m.Name, m.Version, path, m.licenses())}, nil
}

// parseMetadata reads the header block, which ends at the first empty line
// (the description body follows it). net/textproto and net/mail reject
// headers that real distributions write (duplicate or odd keys, bare
// continuation lines), so the few rules needed are applied here.
func parseMetadata(content []byte) (metadata, error) {
	var m metadata
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), maxHeaderLine)
	var key, value string
	flush := func() {
		switch strings.ToLower(key) {
		case "name":
			m.Name = value
		case "version":
			m.Version = value
		case "license":
			m.License = value
		case "license-expression":
			m.LicenseExpression = value
		case "classifier":
			if rest, ok := strings.CutPrefix(value, "License ::"); ok {
				m.licenseClassifiers = append(m.licenseClassifiers, strings.TrimSpace(rest))
			}
		}
		key, value = "", ""
	}
	sawHeader := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			// Old setuptools wrote the long description as an indented
			// Description header with blank lines in it; elsewhere a blank
			// line starts the body.
			if strings.EqualFold(key, "description") {
				continue
			}
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key != "" {
				value += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			if !sawHeader {
				return m, errors.New("not a metadata file: first line is not a header")
			}
			continue
		}
		sawHeader = true
		key, value = strings.TrimSpace(k), strings.TrimSpace(v)
	}
	flush()
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("reading headers: %w", err)
	}
	if m.Name == "" || m.Version == "" {
		return m, errors.New("metadata without Name or Version")
	}
	return m, nil
}

// licenses picks the most precise declaration: License-Expression (an SPDX
// expression, PEP 639), then License when it is a short name rather than
// the whole license text, then the license classifiers.
func (m metadata) licenses() []string {
	if m.LicenseExpression != "" {
		return []string{m.LicenseExpression}
	}
	if l := m.License; l != "" && !strings.EqualFold(l, "UNKNOWN") && !strings.Contains(l, "\n") && len(l) <= 200 {
		return []string{l}
	}
	var out []string
	for _, c := range m.licenseClassifiers {
		// "OSI Approved :: MIT License" -> "MIT License"; a bare
		// "OSI Approved" names no license.
		parts := strings.Split(c, "::")
		name := strings.TrimSpace(parts[len(parts)-1])
		if len(parts) == 1 && (name == "OSI Approved" || name == "") {
			continue
		}
		if spdx, ok := classifierSPDX[name]; ok {
			name = spdx
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// classifierSPDX maps the license classifiers whose SPDX identifier is
// unambiguous; others ("BSD License", "Apache Software License") name a
// family and are kept as written.
var classifierSPDX = map[string]string{
	"MIT License":                                   "MIT",
	"ISC License (ISCL)":                            "ISC",
	"Python Software Foundation License":            "PSF-2.0",
	"Mozilla Public License 2.0 (MPL 2.0)":          "MPL-2.0",
	"GNU General Public License v2 (GPLv2)":         "GPL-2.0-only",
	"GNU General Public License v3 (GPLv3)":         "GPL-3.0-only",
	"GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
	"GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
	"GNU Affero General Public License v3":          "AGPL-3.0-only",
	"The Unlicense (Unlicense)":                     "Unlicense",
	"Zope Public License":                           "ZPL-2.1",
	"Eclipse Public License 2.0 (EPL-2.0)":          "EPL-2.0",
}
