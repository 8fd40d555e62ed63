package policy

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadAllowlist reads an Azure/container-scan allow-list
// (.github/containerscan/allowedlist.yaml) as that action reads it:
//
//	general:
//	  vulnerabilities: [CVE-2019-1234, ...]
//	  bestPracticeViolations: [CIS-DI-0005, ...]
//
// Other keys are ignored, as the action ignores them. Each entry is a
// .trivyignore / .dockleignore line, so "CVE-2019-1234 exp:2025-01-31" sets
// an expiry, and a YAML comment after an entry becomes its reason.
func LoadAllowlist(path string) (*Policy, error) {
	data, err := readLimited(path, maxPolicySize)
	if err != nil {
		return nil, err
	}
	return parseAllowlist(path, data)
}

func parseAllowlist(file string, data []byte) (*Policy, error) {
	root, err := yamlDoc(file, data)
	if err != nil {
		return nil, err
	}
	p := &Policy{Sources: []string{file}}
	if root == nil {
		return p, nil
	}
	r := nodeReader{file: file}
	err = r.fields(root, "the allow-list", nil, func(key string, _, general *yaml.Node) error {
		if key != "general" {
			return nil
		}
		return r.fields(general, "general", nil, func(key string, _, v *yaml.Node) error {
			switch key {
			case "vulnerabilities":
				return r.allowEntries(v, key, func(b ruleBase, id string) {
					p.vulns = append(p.vulns, vulnRule{ruleBase: b, id: strings.ToUpper(id)})
				})
			case "bestPracticeViolations":
				return r.allowEntries(v, key, func(b ruleBase, code string) {
					p.checks = append(p.checks, checkRule{ruleBase: b, code: strings.ToUpper(code)})
				})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// allowEntries reads one list of allow-list entries.
func (r nodeReader) allowEntries(v *yaml.Node, key string, add func(ruleBase, string)) error {
	return r.each(v, key, func(n *yaml.Node) error {
		s, err := r.scalar(n, "an entry of "+key)
		if err != nil {
			return err
		}
		reason := strings.TrimSpace(strings.TrimLeft(n.LineComment, "#"))
		if reason == "" {
			reason = "listed in the allow-list"
		}
		// The action joins entries with newlines into an ignore file, so
		// one entry may hold several lines.
		for i, line := range strings.Split(s, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			b := ruleBase{kind: KindAllowlist, source: r.file, line: n.Line + i, reason: reason}
			fields := strings.Fields(line)
			for _, f := range fields[1:] {
				if f == "#" || strings.HasPrefix(f, "#") {
					break
				}
				d, ok := strings.CutPrefix(f, "exp:")
				if !ok {
					return r.errf(n, "%s: unexpected %q after %s (only exp:YYYY-MM-DD may follow an id)", key, f, fields[0])
				}
				t, err := time.Parse(time.DateOnly, d)
				if err != nil {
					return r.errf(n, "%s: invalid expiry %q (want exp:YYYY-MM-DD)", key, f)
				}
				// As in Trivy, the entry stops applying at the start of that day.
				b.expires, b.until = t, t
			}
			add(b, fields[0])
		}
		return nil
	})
}
