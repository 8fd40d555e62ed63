package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxPolicySize bounds a policy or allow-list file.
const maxPolicySize = 8 << 20

// yamlDoc parses one YAML document into its root node (nil for an empty
// file), with syntax errors as "file:line: message".
func yamlDoc(file string, data []byte) (root *yaml.Node, err error) {
	// yaml.v3 has panicked on pathological input in the past; a policy
	// file must never crash the scanner.
	defer func() {
		if p := recover(); p != nil {
			root, err = nil, fmt.Errorf("%s: malformed YAML (%v)", file, p)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: more than one YAML document", file, extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root = doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	return root, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError rewrites "yaml: line 3: msg" as "file:3: msg".
func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", file, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", file, strings.TrimPrefix(msg, "yaml: "))
}

// nodeReader walks yaml.v3 nodes with errors that carry file:line.
type nodeReader struct {
	file string
	// lists holds the pieces of top-level lists parsed on their own.
	lists map[string][]yamlChunk
}

func (r nodeReader) errf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", r.file, n.Line, fmt.Sprintf(format, args...))
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected node"
}

// fields calls fn for each key of a mapping. Keys not in known, duplicate
// keys and merge keys are errors; known == nil accepts any key (for formats
// whose producers ignore unknown keys).
func (r nodeReader) fields(n *yaml.Node, what string, known []string, fn func(key string, k, v *yaml.Node) error) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return r.errf(n, "%s must be a mapping, got %s", what, kindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return r.errf(k, "%s: keys must be plain strings", what)
		}
		if k.Tag == "!!merge" {
			return r.errf(k, "%s: merge keys (<<) are not supported", what)
		}
		if known != nil && !slices.Contains(known, k.Value) {
			return r.errf(k, "unknown key %q in %s (known keys: %s)", k.Value, what, strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return r.errf(k, "duplicate key %q in %s", k.Value, what)
		}
		seen[k.Value] = true
		if err := fn(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// scalar returns a scalar's value; an alias to a scalar is followed.
func (r nodeReader) scalar(v *yaml.Node, key string) (string, error) {
	if v.Kind == yaml.AliasNode && v.Alias != nil && v.Alias.Kind == yaml.ScalarNode {
		v = v.Alias
	}
	if v.Kind != yaml.ScalarNode {
		return "", r.errf(v, "%s must be a single value, got %s", key, kindName(v))
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(v.Value), nil
}

// list returns the items of a sequence; null is an empty list.
func (r nodeReader) list(v *yaml.Node, key string) ([]*yaml.Node, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, r.errf(v, "%s must be a list, got %s", key, kindName(v))
	}
	return v.Content, nil
}
