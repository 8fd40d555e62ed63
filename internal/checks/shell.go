package checks

import (
	"path"
	"strings"
)

// The fallback reader, for scripts mvdan.cc/sh does not parse (see
// shellparse.go), and the word splitter of ENV, ARG and LABEL arguments. It
// splits the way a POSIX shell would, enough to tell which programs run
// with which arguments: words with quotes removed, control operators (&& ||
// ; | & newline, subshell parentheses) ending a command, redirections
// dropped with their target. Expansions ($VAR, $(...), `...`) are kept
// literally and the commands inside them are not seen. Written by hand
// because it must accept what the real parser rejected.

// maxScriptBytes bounds how much of one history step is parsed; real steps
// are a few KB.
const maxScriptBytes = 1 << 20

// maxNesting bounds `sh -c "..."` recursion.
const maxNesting = 4

// command is one simple command: the program's base name and its
// arguments. Sudo is set when the command was run through sudo.
type command struct {
	Name string
	Args []string
	Sudo bool
	// Assigns are NAME=value words: leading assignments and the arguments
	// of export/declare/readonly/local.
	Assigns []string
}

type token struct {
	text     string
	op       bool // control operator or redirection
	redirect bool
}

// splitScript splits a shell script into its simple commands, in order.
func splitScript(script string, depth int) []command {
	if len(script) > maxScriptBytes {
		script = script[:maxScriptBytes]
	}
	toks := lex(script)
	var out []command
	var words []string
	skipTarget := false
	end := func() {
		if c, ok := simpleCommand(words); ok {
			out = append(out, c)
			if inner, ok := nestedScript(c); ok && depth < maxNesting {
				out = append(out, splitScript(inner, depth+1)...)
			}
		}
		words = words[:0]
	}
	for _, t := range toks {
		switch {
		case t.redirect:
			skipTarget = true
		case t.op:
			skipTarget = false
			end()
		case skipTarget:
			skipTarget = false
		default:
			words = append(words, t.text)
		}
	}
	end()
	return out
}

// lex splits s into words and operators in one linear pass.
func lex(s string) []token {
	var toks []token
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, token{text: w.String()})
			w.Reset()
			inWord = false
		}
	}
	op := func(text string, redirect bool) {
		toks = append(toks, token{text: text, op: true, redirect: redirect})
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) {
				if s[i+1] != '\n' { // backslash-newline continues the line
					w.WriteByte(s[i+1])
					inWord = true
				}
				i += 2
				continue
			}
			i++
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				w.WriteString(s[i+1:])
				i = len(s)
				continue
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			inWord = true
			i = lexDoubleQuoted(s, i+1, &w)
		case c == '$' && i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '{'):
			inWord = true
			end := matchClose(s, i+1)
			w.WriteString(s[i:end])
			i = end
		case c == '`':
			inWord = true
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				w.WriteString(s[i:])
				i = len(s)
				continue
			}
			w.WriteString(s[i : i+j+2])
			i += j + 2
		case c == '#' && !inWord:
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = len(s)
			} else {
				i += j
			}
		case c == ' ' || c == '\t' || c == '\r':
			flush()
			i++
		case c == '\n' || c == ';' || c == '(' || c == ')':
			flush()
			op(string(c), false)
			i++
		case c == '&' || c == '|':
			flush()
			switch {
			case i+1 < len(s) && s[i+1] == c: // && ||
				op(s[i:i+2], false)
				i += 2
			case c == '&' && i+1 < len(s) && s[i+1] == '>': // &> file
				n := 2
				if i+2 < len(s) && s[i+2] == '>' {
					n = 3
				}
				op(s[i:i+n], true)
				i += n
			case c == '|' && i+1 < len(s) && s[i+1] == '&': // |&
				op("|&", false)
				i += 2
			default:
				op(string(c), false)
				i++
			}
		case c == '>' || c == '<':
			if inWord && isDigits(w.String()) { // 2>&1: the fd belongs to the redirection
				w.Reset()
				inWord = false
			} else {
				flush()
			}
			n := 1
			for n < 3 && i+n < len(s) && strings.IndexByte("<>&|-", s[i+n]) >= 0 {
				n++
			}
			op(s[i:i+n], true)
			i += n
		default:
			w.WriteByte(c)
			inWord = true
			i++
		}
	}
	flush()
	return toks
}

// lexDoubleQuoted appends the content of a double-quoted string starting at
// i (after the quote) and returns the index after the closing quote.
func lexDoubleQuoted(s string, i int, w *strings.Builder) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return i + 1
		case c == '\\' && i+1 < len(s):
			switch s[i+1] {
			case '"', '\\', '$', '`':
				w.WriteByte(s[i+1])
			case '\n':
			default:
				w.WriteByte('\\')
				w.WriteByte(s[i+1])
			}
			i += 2
		case c == '$' && i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '{'):
			end := matchClose(s, i+1)
			w.WriteString(s[i:end])
			i = end
		default:
			w.WriteByte(c)
			i++
		}
	}
	return i
}

// matchClose returns the index after the bracket closing the one at open,
// skipping quoted text; len(s) when it is never closed.
func matchClose(s string, open int) int {
	o := s[open]
	c := byte(')')
	if o == '{' {
		c = '}'
	}
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case o:
			depth++
		case c:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Words that start a command without being the program: shell keywords
// and wrappers that run their arguments as a command.
var (
	keywords = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true,
		"done": true, "while": true, "until": true, "!": true, "{": true, "}": true, "time": true, "esac": true}
	// compound commands whose words are not a command (for x in a b; case $x in).
	compound = map[string]bool{"for": true, "case": true, "select": true, "function": true}
	// wrappers whose options come before the wrapped command.
	wrappers     = map[string]bool{"exec": true, "command": true, "builtin": true, "nohup": true, "nice": true, "xargs": true, "env": true, "timeout": true, "stdbuf": true, "setsid": true}
	declarations = map[string]bool{"export": true, "declare": true, "typeset": true, "readonly": true, "local": true}
	// options of wrappers (and sudo) that take a separate value.
	wrapperValueOpts = map[string]map[string]bool{
		"sudo":    {"-u": true, "-g": true, "-C": true, "-D": true, "-h": true, "-p": true, "-r": true, "-t": true, "-T": true, "-U": true},
		"doas":    {"-u": true, "-C": true},
		"env":     {"-u": true, "-C": true, "-S": true},
		"nice":    {"-n": true},
		"xargs":   {"-I": true, "-L": true, "-n": true, "-P": true, "-s": true, "-d": true, "-E": true, "-a": true},
		"timeout": {"-s": true, "-k": true},
		"stdbuf":  {"-i": true, "-o": true, "-e": true},
	}
)

// simpleCommand turns the words of one command into a command, peeling
// keywords, assignments and wrappers (sudo, env, xargs ...).
func simpleCommand(words []string) (command, bool) {
	var c command
	i := 0
	for i < len(words) {
		w := words[i]
		switch {
		case keywords[w]:
			i++
		case compound[w]:
			return command{}, false
		case isAssignment(w):
			c.Assigns = append(c.Assigns, w)
			i++
		case path.Base(w) == "sudo" || path.Base(w) == "doas":
			c.Sudo = true
			i = skipOptions(words, i+1, wrapperValueOpts[path.Base(w)])
		case wrappers[path.Base(w)]:
			name := path.Base(w)
			i = skipOptions(words, i+1, wrapperValueOpts[name])
			if name == "timeout" && i < len(words) { // its duration
				i++
			}
		default:
			c.Name = path.Base(w)
			for _, a := range words[i+1:] {
				if declarations[c.Name] && isAssignment(a) {
					c.Assigns = append(c.Assigns, a)
				}
			}
			c.Args = append([]string(nil), words[i+1:]...)
			return c, true
		}
	}
	if c.Sudo || len(c.Assigns) > 0 {
		return c, true
	}
	return command{}, false
}

// skipOptions skips a wrapper's options (and NAME=value words for env),
// returning the index of the wrapped command.
func skipOptions(words []string, i int, valued map[string]bool) int {
	for i < len(words) {
		w := words[i]
		switch {
		case w == "--":
			return i + 1
		case strings.HasPrefix(w, "-") && len(w) > 1:
			i++
			if valued[w] && i < len(words) {
				i++
			}
		case isAssignment(w):
			i++
		default:
			return i
		}
	}
	return i
}

// isAssignment reports whether w is NAME=value with a valid shell name.
func isAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := w[i]
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

var shells = map[string]bool{"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true}

// nestedScript returns the script of `sh -c SCRIPT`.
func nestedScript(c command) (string, bool) {
	if !shells[c.Name] {
		return "", false
	}
	for i, a := range c.Args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") && i+1 < len(c.Args) {
			return c.Args[i+1], true
		}
		if !strings.HasPrefix(a, "-") {
			return "", false
		}
	}
	return "", false
}

// subcommand returns the first argument that is not an option, skipping
// the values of the options listed in valued, and the arguments after it.
func subcommand(args []string, valued map[string]bool) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if valued[a] {
				i++
			}
			continue
		}
		return a, args[i+1:]
	}
	return "", nil
}

// hasArg reports whether any of args equals one of want.
func hasArg(args []string, want ...string) bool {
	for _, a := range args {
		for _, w := range want {
			if a == w {
				return true
			}
		}
	}
	return false
}

// operands returns the arguments that are not options.
func operands(args []string) []string {
	var out []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}
