package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadTrivyIgnore reads a Trivy ignore file as Trivy documents it: the
// line form (.trivyignore) or, when the name ends in .yaml or .yml, the
// YAML form (.trivyignore.yaml). Errors name the file and line.
func LoadTrivyIgnore(path string) (*Policy, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		data, err := readLimited(path, maxPolicySize)
		if err != nil {
			return nil, err
		}
		return parseTrivyIgnoreYAML(path, data)
	}
	// The line form is read line by line, not held.
	f, err := openLimited(path, maxPolicySize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readTrivyIgnore(path, f)
}

// parseTrivyIgnore reads the line form:
//
//	# Accept the risk until 2023-01-01
//	CVE-2019-14697 exp:2023-01-01
//
// Each id may be a vulnerability, a check code or a secret rule, as in
// Trivy; the comment lines just above an entry become its reason. As in
// Trivy the entry stops applying at the start of its exp: day.
func parseTrivyIgnore(file string, data []byte) (*Policy, error) {
	return readTrivyIgnore(file, bytes.NewReader(data))
}

func readTrivyIgnore(file string, in io.Reader) (*Policy, error) {
	p := &Policy{Sources: []string{file}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var comment []string
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			comment = nil
			continue
		}
		if c, ok := strings.CutPrefix(text, "#"); ok {
			comment = append(comment, strings.TrimSpace(c))
			continue
		}
		b := ruleBase{kind: KindIgnoreFile, source: file, line: line, reason: strings.Join(comment, " ")}
		comment = nil
		if b.reason == "" {
			b.reason = "listed in " + filepath.Base(file)
		}
		fields := strings.Fields(text)
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "#") {
				break
			}
			d, ok := strings.CutPrefix(f, "exp:")
			if !ok {
				return nil, fmt.Errorf("%s:%d: unexpected %q after %s (only exp:YYYY-MM-DD may follow an id)", file, line, f, fields[0])
			}
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: invalid expiry %q (want exp:YYYY-MM-DD)", file, line, f)
			}
			b.expires, b.until = t, t
		}
		p.addAnyID(b, fields[0])
	}
	if err := sc.Err(); err != nil {
		var large *tooLargeError
		if errors.As(err, &large) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

// addAnyID ignores id wherever it can appear: Trivy's ignore files do not
// say whether an id is a vulnerability, a check or a secret rule.
func (p *Policy) addAnyID(b ruleBase, id string) {
	p.vulns = append(p.vulns, vulnRule{ruleBase: b, id: strings.ToUpper(id)})
	p.checks = append(p.checks, checkRule{ruleBase: b, code: strings.ToUpper(id)})
	p.secrets = append(p.secrets, secretRule{ruleBase: b, rule: id})
}

var (
	trivyYAMLKeys  = []string{"vulnerabilities", "misconfigurations", "secrets", "licenses"}
	trivyEntryKeys = []string{"id", "paths", "purls", "statement", "expired_at"}
)

// parseTrivyIgnoreYAML reads the YAML form (Trivy's "Ignore findings"
// documentation):
//
//	vulnerabilities:
//	  - id: CVE-2023-3446
//	    paths: ["usr/lib/..."]
//	    purls: ["pkg:deb/debian/libssl1.1"]
//	    statement: Accept the risk
//	    expired_at: 2023-09-01
//	misconfigurations: [...]
//	secrets: [...]
//
// Licenses are accepted and have no effect: Vigil reports no license
// findings to ignore.
func parseTrivyIgnoreYAML(file string, data []byte) (*Policy, error) {
	return parseTrivyYAMLPieces(file, data, chunkBytes)
}

// parseTrivyYAMLPieces parses the lists of a large file in pieces
// (yamlchunks.go), as parseGrypePieces.
func parseTrivyYAMLPieces(file string, data []byte, piece int) (*Policy, error) {
	return inPieces(data, trivyYAMLKeys, piece, func(data []byte, lists map[string][]yamlChunk) (*Policy, error) {
		return parseTrivyYAMLLists(file, data, lists)
	})
}

func parseTrivyYAMLLists(file string, data []byte, lists map[string][]yamlChunk) (*Policy, error) {
	root, err := yamlDoc(file, data)
	if err != nil {
		return nil, err
	}
	p := &Policy{Sources: []string{file}}
	if root == nil {
		return p, nil
	}
	r := nodeReader{file: file, lists: lists}
	err = r.fields(root, "the ignore file", trivyYAMLKeys, func(key string, _, v *yaml.Node) error {
		return r.each(v, key, func(n *yaml.Node) error {
			e, err := r.trivyEntry(n, key)
			if err != nil || key == "licenses" {
				return err
			}
			p.addTrivyEntry(key, e)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// trivyEntry is one entry of .trivyignore.yaml.
type trivyEntry struct {
	base  ruleBase
	id    string
	paths []*glob
	purls []*glob
}

func (r nodeReader) trivyEntry(n *yaml.Node, section string) (trivyEntry, error) {
	e := trivyEntry{base: ruleBase{kind: KindIgnoreFile, source: r.file, line: n.Line}}
	err := r.fields(n, "an entry of "+section, trivyEntryKeys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "id":
			e.id, err = r.scalar(v, "id")
		case "statement":
			e.base.reason, err = r.scalar(v, "statement")
		case "expired_at":
			var s string
			if s, err = r.scalar(v, "expired_at"); err != nil {
				return err
			}
			t, perr := time.Parse(time.DateOnly, s)
			if perr != nil {
				return r.errf(v, "expired_at: invalid date %q (want YYYY-MM-DD)", s)
			}
			e.base.expires, e.base.until = t, t
		case "paths", "purls":
			err = r.each(v, key, func(item *yaml.Node) error {
				g, err := r.glob(item, strings.TrimSuffix(key, "s"))
				if key == "paths" {
					e.paths = append(e.paths, g)
				} else {
					e.purls = append(e.purls, g)
				}
				return err
			})
		}
		return err
	})
	if err != nil {
		return e, err
	}
	if e.id == "" {
		return e, r.errf(n, "an entry of %s needs an id", section)
	}
	if e.base.reason == "" {
		e.base.reason = "listed in " + filepath.Base(r.file)
	}
	return e, nil
}

// addTrivyEntry turns an entry into rules: one per path or purl (Trivy
// ignores the finding when any of them matches), or one for the id alone.
func (p *Policy) addTrivyEntry(section string, e trivyEntry) {
	id := strings.ToUpper(e.id)
	switch section {
	case "vulnerabilities":
		if len(e.paths)+len(e.purls) == 0 {
			p.vulns = append(p.vulns, vulnRule{ruleBase: e.base, id: id})
		}
		for _, g := range e.paths {
			p.vulns = append(p.vulns, vulnRule{ruleBase: e.base, id: id, path: g})
		}
		for _, g := range e.purls {
			p.vulns = append(p.vulns, vulnRule{ruleBase: e.base, id: id, purl: g})
		}
	case "misconfigurations":
		// Checks are image-wide: a path narrows nothing Vigil can see.
		p.checks = append(p.checks, checkRule{ruleBase: e.base, code: id})
	case "secrets":
		if len(e.paths) == 0 {
			p.secrets = append(p.secrets, secretRule{ruleBase: e.base, rule: e.id})
		}
		for _, g := range e.paths {
			p.secrets = append(p.secrets, secretRule{ruleBase: e.base, rule: e.id, path: g})
		}
	}
}
