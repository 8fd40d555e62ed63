package policy

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadFile reads a Vigil policy file (.vigil.yaml, docs/policy.md): ignore
// rules for vulnerabilities, best-practice checks and secrets, each with a
// reason and an optional expiry, plus VEX documents to load. Every error
// names the file and line.
func LoadFile(path string) (*Policy, error) {
	data, err := readLimited(path, maxPolicySize)
	if err != nil {
		return nil, err
	}
	p, vexFiles, err := parseFile(path, data)
	if err != nil {
		return nil, err
	}
	for _, v := range vexFiles {
		vp := v.path
		if !filepath.IsAbs(vp) {
			vp = filepath.Join(filepath.Dir(path), vp)
		}
		x, err := LoadVEX(vp)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, v.line, err)
		}
		p = Merge(p, x)
	}
	return p, nil
}

// vexFile is a VEX document a policy file refers to.
type vexFile struct {
	path string
	line int
}

var (
	fileKeys   = []string{"version", "ignore", "checks", "secrets", "vex"}
	ignoreKeys = []string{"id", "package", "path", "image", "reason", "expires"}
	checkKeys  = []string{"code", "image", "reason", "expires"}
	secretKeys = []string{"rule", "path", "image", "reason", "expires"}
)

// parseFile parses a policy file without touching the file system. A large
// file's lists are parsed piece by piece (yamlchunks.go).
func parseFile(file string, data []byte) (*Policy, []vexFile, error) {
	if len(data) > chunkBytes {
		return parseFilePieces(file, data, chunkBytes)
	}
	return parseFileLists(file, data, nil)
}

// parseFilePieces parses data's lists in pieces of about piece bytes; on
// any error, or a layout splitLists does not handle, data is parsed whole.
func parseFilePieces(file string, data []byte, piece int) (*Policy, []vexFile, error) {
	if skeleton, lists, ok := splitLists(data, []string{"ignore", "checks", "secrets", "vex"}, piece); ok && len(lists) > 0 {
		if p, vex, err := parseFileLists(file, skeleton, lists); err == nil {
			return p, vex, nil
		}
	}
	return parseFileLists(file, data, nil)
}

// parseFileLists parses data; the items of lists[key] follow those of
// key's value in data.
func parseFileLists(file string, data []byte, lists map[string][]yamlChunk) (*Policy, []vexFile, error) {
	root, err := yamlDoc(file, data)
	if err != nil {
		return nil, nil, err
	}
	p := &Policy{Sources: []string{file}}
	if root == nil {
		return p, nil, nil
	}
	r := nodeReader{file: file, lists: lists}
	var vex []vexFile
	err = r.fields(root, "the policy file", fileKeys, func(key string, k, v *yaml.Node) error {
		switch key {
		case "version":
			s, err := r.scalar(v, "version")
			if err != nil {
				return err
			}
			if s != "1" {
				return r.errf(v, "unsupported version %q (this Vigil reads version 1)", s)
			}
		case "ignore":
			return r.each(v, "ignore", func(n *yaml.Node) error {
				rule, err := r.vulnRule(n)
				p.vulns = append(p.vulns, rule)
				return err
			})
		case "checks":
			return r.each(v, "checks", func(n *yaml.Node) error {
				rule, err := r.checkRule(n)
				p.checks = append(p.checks, rule)
				return err
			})
		case "secrets":
			return r.each(v, "secrets", func(n *yaml.Node) error {
				rule, err := r.secretRule(n)
				p.secrets = append(p.secrets, rule)
				return err
			})
		case "vex":
			return r.each(v, "vex", func(n *yaml.Node) error {
				s, err := r.scalar(n, "a vex entry")
				if err == nil && s == "" {
					err = r.errf(n, "empty vex entry")
				}
				vex = append(vex, vexFile{path: s, line: n.Line})
				return err
			})
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return p, vex, nil
}

func (r nodeReader) each(v *yaml.Node, key string, fn func(*yaml.Node) error) error {
	items, err := r.list(v, key)
	if err != nil {
		return err
	}
	for _, n := range items {
		if err := fn(n); err != nil {
			return err
		}
	}
	for _, c := range r.lists[key] {
		items, err := chunkItems(r.file, c)
		if err != nil {
			return err
		}
		for _, n := range items {
			if err := fn(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// common reads the keys every rule has (image, reason, expires); it
// returns false when key is not one of them.
func (r nodeReader) common(b *ruleBase, key string, v *yaml.Node) (bool, error) {
	var err error
	switch key {
	case "image":
		b.image, err = r.glob(v, "image")
	case "reason":
		b.reason, err = r.scalar(v, "reason")
	case "expires":
		b.expires, b.until, err = r.expiry(v)
	default:
		return false, nil
	}
	return true, err
}

func (r nodeReader) base(n *yaml.Node) ruleBase {
	return ruleBase{kind: KindPolicy, source: r.file, line: n.Line}
}

func (r nodeReader) finish(b *ruleBase, n *yaml.Node, what string) error {
	if b.reason == "" {
		return r.errf(n, "%s: reason is required (say why the exception is safe)", what)
	}
	return nil
}

func (r nodeReader) vulnRule(n *yaml.Node) (vulnRule, error) {
	rule := vulnRule{ruleBase: r.base(n)}
	err := r.fields(n, "an ignore entry", ignoreKeys, func(key string, _, v *yaml.Node) error {
		if ok, err := r.common(&rule.ruleBase, key, v); ok {
			return err
		}
		switch key {
		case "id":
			id, err := r.scalar(v, "id")
			if err != nil {
				return err
			}
			if id == "" || strings.ContainsAny(id, " \t*?[") {
				return r.errf(v, "id must be one vulnerability id such as CVE-2021-3711 or GHSA-xxxx-xxxx-xxxx, got %q", id)
			}
			rule.id = strings.ToUpper(id)
		case "package":
			g, err := r.glob(v, "package")
			if err != nil {
				return err
			}
			if strings.HasPrefix(g.pattern, "pkg:") {
				rule.purl = g
			} else {
				rule.pkg = g
			}
		case "path":
			g, err := r.glob(v, "path")
			if err != nil {
				return err
			}
			rule.path = g
		}
		return nil
	})
	if err != nil {
		return rule, err
	}
	if rule.id == "" && rule.pkg == nil && rule.purl == nil {
		return rule, r.errf(n, "an ignore entry needs an id, a package or both")
	}
	return rule, r.finish(&rule.ruleBase, n, rule.what())
}

func (r nodeReader) checkRule(n *yaml.Node) (checkRule, error) {
	rule := checkRule{ruleBase: r.base(n)}
	err := r.fields(n, "a checks entry", checkKeys, func(key string, _, v *yaml.Node) error {
		if ok, err := r.common(&rule.ruleBase, key, v); ok {
			return err
		}
		code, err := r.scalar(v, "code")
		rule.code = strings.ToUpper(code)
		return err
	})
	if err != nil {
		return rule, err
	}
	if rule.code == "" {
		return rule, r.errf(n, "a checks entry needs a code (e.g. CIS-DI-0001)")
	}
	return rule, r.finish(&rule.ruleBase, n, rule.code)
}

func (r nodeReader) secretRule(n *yaml.Node) (secretRule, error) {
	rule := secretRule{ruleBase: r.base(n)}
	err := r.fields(n, "a secrets entry", secretKeys, func(key string, _, v *yaml.Node) error {
		if ok, err := r.common(&rule.ruleBase, key, v); ok {
			return err
		}
		var err error
		switch key {
		case "rule":
			rule.rule, err = r.scalar(v, "rule")
		case "path":
			rule.path, err = r.glob(v, "path")
		}
		return err
	})
	if err != nil {
		return rule, err
	}
	if rule.rule == "" && rule.path == nil {
		return rule, r.errf(n, "a secrets entry needs a rule, a path or both")
	}
	return rule, r.finish(&rule.ruleBase, n, rule.what())
}

func (r nodeReader) glob(v *yaml.Node, key string) (*glob, error) {
	s, err := r.scalar(v, key)
	if err != nil {
		return nil, err
	}
	if key == "path" {
		s = strings.TrimPrefix(s, "/")
	}
	g, err := compileGlob(s)
	if err != nil {
		return nil, r.errf(v, "%s: %v", key, err)
	}
	return g, nil
}

// expiry parses "2026-12-31" (the rule applies through that day, UTC) or
// an RFC 3339 time (the rule applies until that instant).
func (r nodeReader) expiry(v *yaml.Node) (shown, until time.Time, err error) {
	s, err := r.scalar(v, "expires")
	if err != nil {
		return shown, until, err
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, t.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, t, nil
	}
	return shown, until, r.errf(v, "expires: invalid date %q (want YYYY-MM-DD or RFC 3339)", s)
}
