package checks

import (
	"errors"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// A RUN step's script is parsed by mvdan.cc/sh (the parser of shfmt), which
// knows the shell grammar the checks need: command substitutions and
// backticks (whose commands run too), heredocs, && || ; | and &, subshells,
// compound commands, functions. The rules then see every simple command
// that would run, with its words unquoted. Expansions ($VAR, $(...)) are
// kept as their source text, never evaluated. A script the parser rejects
// (a history entry cut short, a syntax error the build ignored because the
// step never ran that branch, a non-POSIX shell) is read by the simpler
// splitter in shell.go, and the scan says so in a warning.

// maxParseNesting bounds how deeply brackets may nest in a script given to
// the parser, whose recursion follows the nesting: a hostile history entry
// of a million "$(" must not exhaust the stack.
const maxParseNesting = 200

// errTooDeep is the parse error of a script nested deeper than maxParseNesting.
var errTooDeep = errors.New("nested too deeply")

// parseScript returns the simple commands of a shell script, in the order
// they appear, including those of command substitutions, heredocs fed to a
// shell and `sh -c` arguments. A script that does not parse is split by
// the fallback reader.
func parseScript(script string) []command {
	cmds, _ := parseScriptErr(script)
	return cmds
}

// parseScriptErr is parseScript that also returns why the script did not
// parse, when the fallback reader had to be used.
func parseScriptErr(script string) ([]command, error) {
	r := &shellReader{printer: syntax.NewPrinter(syntax.Minify(true))}
	return r.parseShell(script, 0)
}

// shellReader holds the parsers and printer one script and the scripts
// nested in it share: making them costs more than parsing a short `sh -c`.
// Each nesting depth has its own parser, as a nested script is parsed
// while the AST of the script around it is still being walked.
type shellReader struct {
	parsers [maxNesting + 1]*syntax.Parser
	printer *syntax.Printer
	buf     strings.Builder
}

func (sr *shellReader) parseShell(script string, depth int) ([]command, error) {
	if len(script) > maxScriptBytes {
		script = script[:maxScriptBytes]
	}
	file, err := sr.parseFile(script, depth)
	if err != nil {
		return splitScript(script, depth), err
	}
	var out []command
	var firstErr error
	// nested appends the commands of a script c runs (sh -c, a heredoc).
	nested := func(c command, inner string) {
		if depth >= maxNesting {
			return
		}
		cmds, err := sr.parseShell(inner, depth+1)
		out = append(out, cmds...)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("in %s -c: %w", c.Name, err)
		}
	}
	// heredocs holds the heredoc scripts of shell calls, met on the
	// statement before its command.
	heredocs := map[*syntax.CallExpr][]string{}
	syntax.Walk(file, func(node syntax.Node) bool {
		switch x := node.(type) {
		case *syntax.CallExpr:
			words := make([]string, 0, len(x.Assigns)+len(x.Args))
			for _, a := range x.Assigns {
				words = append(words, sr.assignText(a))
			}
			for _, w := range x.Args {
				words = append(words, sr.wordText(w))
			}
			c, ok := simpleCommand(words)
			if !ok {
				return true
			}
			out = append(out, c)
			if inner, ok := nestedScript(c); ok {
				nested(c, inner)
			}
			for _, h := range heredocs[x] {
				nested(c, h)
			}
		case *syntax.DeclClause: // export, declare, local, readonly, typeset
			c := command{Name: x.Variant.Value}
			for _, a := range x.Args {
				if a.Name != nil && !a.Naked {
					c.Assigns = append(c.Assigns, sr.assignText(a))
				}
				c.Args = append(c.Args, sr.assignText(a))
			}
			out = append(out, c)
		case *syntax.Stmt:
			// A heredoc fed to a shell (`bash <<EOF ... EOF`) is a script.
			if call, ok := x.Cmd.(*syntax.CallExpr); ok && len(call.Args) > 0 {
				if name := baseName(sr.wordText(call.Args[0])); shells[name] && !sr.hasDashC(call) {
					for _, r := range x.Redirs {
						if (r.Op == syntax.Hdoc || r.Op == syntax.DashHdoc) && r.Hdoc != nil {
							heredocs[call] = append(heredocs[call], sr.wordText(r.Hdoc))
						}
					}
				}
			}
		}
		return true
	})
	return out, firstErr
}

// parseFile parses script as bash (a superset of what RUN steps use).
func (sr *shellReader) parseFile(script string, depth int) (f *syntax.File, err error) {
	if tooDeep(script) {
		return nil, errTooDeep
	}
	defer func() {
		// The parser is well tested, but a history entry is hostile input:
		// a panic becomes a parse error and the fallback reader.
		if r := recover(); r != nil {
			err = fmt.Errorf("shell parser panicked: %v", r)
		}
	}()
	if sr.parsers[depth] == nil {
		sr.parsers[depth] = syntax.NewParser(syntax.Variant(syntax.LangBash))
	}
	return sr.parsers[depth].Parse(strings.NewReader(script), "")
}

// tooDeep reports whether brackets nest deeper than maxParseNesting.
func tooDeep(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '{', '[':
			if depth++; depth > maxParseNesting {
				return true
			}
		case ')', '}', ']':
			depth = max(depth-1, 0)
		}
	}
	return false
}

func (sr *shellReader) hasDashC(call *syntax.CallExpr) bool {
	for _, w := range call.Args[1:] {
		if t := sr.wordText(w); strings.HasPrefix(t, "-") && strings.Contains(t, "c") && !strings.HasPrefix(t, "--") {
			return true
		}
	}
	return false
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// assignText renders NAME=value with the value unquoted.
func (sr *shellReader) assignText(a *syntax.Assign) string {
	if a.Name == nil {
		return sr.wordText(a.Value)
	}
	switch {
	case a.Naked:
		return a.Name.Value
	case a.Array != nil:
		return a.Name.Value + "=" + sr.nodeSource(a.Array)
	case a.Value == nil:
		return a.Name.Value + "="
	}
	return a.Name.Value + "=" + sr.wordText(a.Value)
}

// wordText renders a word as the shell would pass it, quotes removed, with
// expansions kept as their source text.
func (sr *shellReader) wordText(w *syntax.Word) string {
	if w == nil {
		return ""
	}
	if lit := w.Lit(); lit != "" && !strings.ContainsRune(lit, '\\') {
		return lit
	}
	var b strings.Builder
	sr.writeParts(&b, w.Parts, false)
	return b.String()
}

func (sr *shellReader) writeParts(b *strings.Builder, parts []syntax.WordPart, quoted bool) {
	for _, p := range parts {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(x.Value, quoted))
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			sr.writeParts(b, x.Parts, true)
		default:
			b.WriteString(sr.nodeSource(p))
		}
	}
}

// unescape removes the backslashes the shell removes: before any
// character outside quotes, before $ ` " \ and newline inside double quotes.
func unescape(s string, quoted bool) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		next := s[i+1]
		switch {
		case next == '\n':
		case !quoted || strings.IndexByte("$`\"\\", next) >= 0:
			b.WriteByte(next)
		default:
			b.WriteByte('\\')
			b.WriteByte(next)
		}
		i++
	}
	return b.String()
}

// nodeSource prints a node back as shell source ($VAR, $(cmd), {a,b}).
func (sr *shellReader) nodeSource(n syntax.Node) string {
	sr.buf.Reset()
	if err := sr.printer.Print(&sr.buf, n); err != nil {
		return ""
	}
	return sr.buf.String()
}
