package npm

import (
	"encoding/json"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// packageJSON is the part of a package.json manifest the cataloger reads.
type packageJSON struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Private  json.RawMessage `json:"private"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// parsePackageJSON reads an installed package's manifest. Manifests
// without a name or version (nested helper manifests) and private
// projects (an application's own root) are not packages and yield none.
func parsePackageJSON(path string, content []byte) ([]inventory.Package, error) {
	var m packageJSON
	if err := json.Unmarshal(content, &m); err != nil {
		return nil, err
	}
	if m.Name == "" || m.Version == "" || isTrue(m.Private) {
		return nil, nil
	}
	return []inventory.Package{newPackage(m.Name, m.Version, path, manifestLicenses(m.License, m.Licenses))}, nil
}

func isTrue(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "true" || s == `"true"`
}

// manifestLicenses accepts every form npm has used: "license": "MIT",
// "license": {"type": "MIT"}, and the deprecated "licenses": [...] of
// strings or {"type": ...} objects. Unrecognised shapes are ignored: a
// package is still reported without its license.
func manifestLicenses(license, licenses json.RawMessage) []string {
	var out []string
	if l := licenseValue(license); l != "" {
		out = append(out, l)
	}
	var list []json.RawMessage
	if len(licenses) > 0 && json.Unmarshal(licenses, &list) == nil {
		for _, raw := range list {
			if l := licenseValue(raw); l != "" {
				out = append(out, l)
			}
		}
	} else if l := licenseValue(licenses); l != "" {
		out = append(out, l)
	}
	return out
}

func licenseValue(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var obj struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return strings.TrimSpace(obj.Type)
	}
	return ""
}
