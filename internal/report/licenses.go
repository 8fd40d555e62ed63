package report

import (
	_ "embed"
	"regexp"
	"strings"
)

// spdxLicenseIDs is the SPDX license list (ids and exceptions) as the
// CycloneDX 1.6 schema enumerates it (spdx.schema.json, list v3.17), one
// per line. CycloneDX rejects a license.id outside it, so names that are
// not on it are written as license names / LicenseRefs instead.
//
//go:embed spdx_license_ids.txt
var spdxLicenseIDs string

var knownLicenses = func() map[string]string {
	m := map[string]string{}
	for _, id := range strings.Fields(spdxLicenseIDs) {
		m[strings.ToLower(id)] = id
	}
	return m
}()

// canonicalLicenseID returns the SPDX id with its official case.
func canonicalLicenseID(s string) (string, bool) {
	id, ok := knownLicenses[strings.ToLower(strings.TrimSpace(s))]
	return id, ok
}

var licenseRefChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// licenseRef turns a free-text license name into an SPDX LicenseRef id.
func licenseRef(s string) string {
	ref := strings.Trim(licenseRefChars.ReplaceAllString(strings.TrimSpace(s), "-"), "-")
	if ref == "" {
		ref = "unknown"
	}
	return "LicenseRef-" + ref
}

// spdxExpression normalises s when it is a valid SPDX license expression
// over known ids ("mit" -> "MIT", "GPL-2.0-only or MIT" -> "GPL-2.0-only OR
// MIT"); ok is false for free text such as "Apache 2" or "BSD".
func spdxExpression(s string) (expr string, ok bool) {
	tokens := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s))
	if len(tokens) == 0 {
		return "", false
	}
	out := make([]string, 0, len(tokens))
	depth := 0
	expectID := true
	for i, t := range tokens {
		up := strings.ToUpper(t)
		switch {
		case t == "(":
			if !expectID {
				return "", false
			}
			depth++
			out = append(out, t)
		case t == ")":
			if expectID || depth == 0 {
				return "", false
			}
			depth--
			out = append(out, t)
		case up == "AND" || up == "OR" || up == "WITH":
			if expectID || i == len(tokens)-1 {
				return "", false
			}
			expectID = true
			out = append(out, up)
		default:
			if !expectID {
				return "", false
			}
			id, ok := licenseToken(t)
			if !ok {
				return "", false
			}
			out = append(out, id)
			expectID = false
		}
	}
	if depth != 0 || expectID {
		return "", false
	}
	return strings.ReplaceAll(strings.ReplaceAll(strings.Join(out, " "), "( ", "("), " )", ")"), true
}

func licenseToken(t string) (string, bool) {
	if strings.HasPrefix(t, "LicenseRef-") && len(t) > len("LicenseRef-") && !licenseRefChars.MatchString(t) {
		return t, true
	}
	if id, ok := canonicalLicenseID(t); ok {
		return id, true
	}
	if base, plus := strings.CutSuffix(t, "+"); plus {
		if id, ok := canonicalLicenseID(base); ok {
			return id + "+", true
		}
	}
	return "", false
}

// isCompound reports whether an expression has operators.
func isCompound(expr string) bool {
	return strings.ContainsAny(expr, " ()")
}
