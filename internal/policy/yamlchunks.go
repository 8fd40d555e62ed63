package policy

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// yaml.v3 cannot stream: it builds the node tree of the whole document
// first, about 13 times the file's size (an 8 MiB policy file of 86,000
// exceptions made a 105 MB tree, 278 MB peak RSS). No maintained Go YAML
// library parses incrementally, so large policy files are cut into pieces
// here, each parsed on its own with yaml.v3: the lists of the top-level
// keys, laid out as block sequences (the way every policy file is
// written), are split between items into pieces of about chunkBytes,
// and the rest of the file is parsed with those lines left blank. Anything
// this does not recognise, and any error at all, falls back to parsing the
// whole document, so results and error messages are exactly the whole
// document's.

// chunkBytes is the size of a piece; files smaller than it are parsed whole.
const chunkBytes = 256 << 10

// yamlChunk is a run of whole list items.
type yamlChunk struct {
	data []byte
	// line is the file line of its first line.
	line int
}

// splitLists cuts the block sequences under the given top-level keys out of
// data, in pieces of about piece bytes. skeleton is data with those lines blank (line numbers kept); lists
// holds each key's pieces in order. ok is false for a layout it does not
// handle (document markers, directives, tabs, a list item less indented
// than the first).
func splitLists(data []byte, keys []string, piece int) (skeleton []byte, lists map[string][]yamlChunk, ok bool) {
	skeleton = make([]byte, 0, len(data)/8)
	lists = map[string][]yamlChunk{}
	var (
		key        string // the list being cut, "" outside one
		itemIndent = -1
		start      = -1 // offset where the current piece starts
		startLine  int
	)
	closePiece := func(end int) {
		if key != "" && start >= 0 && end > start {
			lists[key] = append(lists[key], yamlChunk{data: data[start:end], line: startLine})
		}
		start = -1
	}
	line := 0
	for off := 0; off < len(data); {
		line++
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		text := data[off:end]
		content := bytes.TrimLeft(text, " ")
		indent := len(text) - len(content)
		trimmed := bytes.TrimRight(content, " \r\n")
		switch {
		case bytes.HasPrefix(text, []byte("---")), bytes.HasPrefix(text, []byte("...")),
			bytes.HasPrefix(text, []byte("%")), bytes.HasPrefix(content, []byte("\t")):
			return nil, nil, false
		case len(trimmed) == 0 || trimmed[0] == '#':
			// Blank or comment: part of whatever surrounds it.
		case indent == 0 && !isItem(trimmed):
			// A top-level key ends any list and may start one.
			closePiece(off)
			key, itemIndent = "", -1
			for _, k := range keys {
				if isBareKey(trimmed, k) {
					if _, seen := lists[k]; seen {
						// A duplicate key: the whole document reports it.
						return nil, nil, false
					}
					key = k
				}
			}
		case key == "":
			if indent == 0 {
				return nil, nil, false // a top-level list
			}
		case itemIndent < 0:
			if !isItem(trimmed) {
				// Not a block sequence (a mapping, a multi-line scalar):
				// left to the whole-document parse of the skeleton.
				return nil, nil, false
			}
			itemIndent, start, startLine = indent, off, line
		case indent < itemIndent:
			return nil, nil, false
		case indent == itemIndent && isItem(trimmed) && off-start >= piece:
			closePiece(off)
			start, startLine = off, line
		}
		if key != "" && itemIndent >= 0 {
			skeleton = append(skeleton, '\n')
		} else {
			skeleton = append(skeleton, text...)
		}
		off = end
	}
	closePiece(len(data))
	return skeleton, lists, true
}

// isItem reports whether a line (without its indentation) starts a block
// sequence item.
func isItem(s []byte) bool {
	return len(s) > 0 && s[0] == '-' && (len(s) == 1 || s[1] == ' ')
}

// isBareKey reports whether a line is "key:" with nothing after it but a
// comment: the key's value is on the following lines.
func isBareKey(s []byte, key string) bool {
	rest, ok := bytes.CutPrefix(s, []byte(key+":"))
	if !ok {
		return false
	}
	if len(rest) == 0 {
		return true
	}
	// A comment needs a space before its '#': "key:#x" is another key.
	trimmed := bytes.TrimLeft(rest, " ")
	return len(trimmed) == 0 || (trimmed[0] == '#' && len(trimmed) < len(rest))
}

// chunkItems parses one piece and returns its items, their lines those of
// the file.
func chunkItems(file string, c yamlChunk) ([]*yaml.Node, error) {
	root, err := yamlDoc(file, c.data)
	if err != nil {
		return nil, err
	}
	if root == nil || root.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: not a list", file, c.line)
	}
	shiftLines(root, c.line-1)
	return root.Content, nil
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// inPieces parses data with parse, the block lists under keys cut into
// pieces of about piece bytes when data is larger than a piece; on any
// error, or a layout splitLists does not handle, data is parsed whole, so
// results and errors are the whole document's.
func inPieces[T any](data []byte, keys []string, piece int, parse func(data []byte, lists map[string][]yamlChunk) (T, error)) (T, error) {
	if len(data) > piece {
		if skeleton, lists, ok := splitLists(data, keys, piece); ok && len(lists) > 0 {
			if v, err := parse(skeleton, lists); err == nil {
				return v, nil
			}
		}
	}
	return parse(data, nil)
}
