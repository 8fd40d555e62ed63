package checks

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// step is one history entry read back into the Dockerfile instruction that
// made it. CreatedBy comes in several dialects:
//
//	/bin/sh -c #(nop) ADD file:3c4… in /          classic builder, non-RUN
//	/bin/sh -c apk add --no-cache curl            classic builder, RUN
//	|2 A=1 B=2 /bin/sh -c make                    classic RUN with build args
//	RUN |1 TOKEN=x /bin/sh -c make # buildkit     BuildKit
//	ADD app.tar.gz /srv # buildkit
//	RUN apk add curl                              kaniko, buildah
type step struct {
	Index       int    // 1-based position in the history
	Instruction string // RUN, ADD, COPY, ENV, ... upper case
	Args        string // the instruction's arguments, build args removed
	// BuildArgs are the NAME=value build arguments a RUN step recorded.
	BuildArgs []string
	// Script is the shell script of a RUN step (after `sh -c`), or its
	// exec-form command line.
	Script string
	// Base is set for steps that built the base image's layers.
	Base bool
	// Commands are the simple commands of Script, read once for all rules.
	Commands []command
	// ParseErr says why Script did not parse as shell, when Commands come
	// from the fallback splitter.
	ParseErr error
}

var instructions = map[string]bool{"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true,
	"ENV": true, "EXPOSE": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true, "ONBUILD": true,
	"RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true}

const nopPrefix = "#(nop)"

// parseStep reads one CreatedBy string.
func parseStep(createdBy string) step {
	s := strings.TrimSpace(createdBy)
	if len(s) > maxScriptBytes {
		s = s[:maxScriptBytes]
	}
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	var st step
	if rest, ok := cutShell(s); ok {
		if after, ok := strings.CutPrefix(strings.TrimSpace(rest), nopPrefix); ok {
			st.Instruction, st.Args = splitInstruction(strings.TrimSpace(after))
			if st.Instruction == "" { // "#(nop) " with an unknown word: keep as-is
				st.Instruction, st.Args = "NOP", strings.TrimSpace(after)
			}
			return st
		}
		st.Instruction, st.Args = "RUN", s
	} else if ins, args := splitInstruction(s); ins != "" {
		st.Instruction, st.Args = ins, args
	} else {
		st.Instruction, st.Args = "RUN", s // classic RUN, possibly with build args or exec form
	}
	if st.Instruction == "RUN" {
		st.BuildArgs, st.Args = cutBuildArgs(st.Args)
		st.Script = runScript(st.Args)
	}
	return st
}

// splitInstruction splits "ADD a b" into ("ADD", "a b") when the first word
// is a Dockerfile instruction written in upper case.
func splitInstruction(s string) (string, string) {
	word, rest, _ := strings.Cut(s, " ")
	if !instructions[word] {
		return "", ""
	}
	return word, strings.TrimSpace(rest)
}

// shellPrefix matches a shell invocation running a script: "/bin/sh -c ",
// "/bin/bash -o pipefail -c ", "cmd /S /C ", "powershell -Command ".
var shellPrefix = regexp.MustCompile(`^(?:(?:/usr)?/bin/)?(?:sh|bash|ash|dash|zsh|ksh)(?:\s+-[-\w]+(?:\s+[a-z]+)?)*?\s+-[a-z]*c(?:\s+|$)|^(?i:cmd(?:\.exe)?\s+/S\s+/C\s+|(?:powershell|pwsh)(?:\.exe)?\s+(?:-\w+\s+\S+\s+)*-Command\s+)`)

// cutShell returns the script after a leading shell invocation.
func cutShell(s string) (string, bool) {
	head := s
	if len(head) > 256 { // the prefix is short; keep the regexp off long scripts
		head = head[:256]
	}
	loc := shellPrefix.FindStringIndex(head)
	if loc == nil {
		return "", false
	}
	return s[loc[1]:], true
}

// cutBuildArgs splits the "|N A=1 B=2 " prefix a RUN with build arguments
// records.
func cutBuildArgs(args string) ([]string, string) {
	if !strings.HasPrefix(args, "|") {
		return nil, args
	}
	countText, rest, _ := strings.Cut(args[1:], " ")
	n, err := strconv.Atoi(countText)
	if err != nil || n <= 0 {
		return nil, args
	}
	var out []string
	for i := 0; i < n && rest != ""; i++ {
		word, after, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		if !isAssignment(word) {
			break
		}
		out = append(out, word)
		rest = after
	}
	return out, strings.TrimSpace(rest)
}

// runScript returns the shell script of a RUN step's arguments.
func runScript(args string) string {
	if script, ok := cutShell(args); ok {
		return script
	}
	return args
}

// Display renders the step as a Dockerfile line for alerts: build args
// dropped, suspicious assignments and URL passwords masked, shortened.
func (s step) Display() string {
	text := s.Args
	if s.Instruction == "RUN" && s.Script != "" {
		text = s.Script
	}
	const max = 200
	if len(text) > 4*max { // redact only what can be shown
		cut := 4 * max
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	text = redact(strings.Join(strings.Fields(text), " "))
	if r := []rune(text); len(r) > max {
		text = string(r[:max]) + "…"
	}
	return strings.TrimSpace(s.Instruction + " " + text)
}

// Where says which history step an alert comes from.
func (s step) Where() string {
	if s.Base {
		return "history step " + strconv.Itoa(s.Index) + ", base image"
	}
	return "history step " + strconv.Itoa(s.Index)
}

var assignmentText = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S+)`)

// redact masks the values of suspicious NAME=value pairs and URL passwords.
func redact(s string) string {
	s = assignmentText.ReplaceAllStringFunc(s, func(m string) string {
		name, _, _ := strings.Cut(m, "=")
		if suspiciousName(name, nil) {
			return name + "=****"
		}
		return m
	})
	return urlPassword.ReplaceAllString(s, "${1}****@")
}

// readHistory parses the image history, marking the steps of base image
// layers (the layer attribution the image reader did).
func readHistory(a inventory.Artifact) []step {
	if a.Config == nil {
		return nil
	}
	var steps []step
	layer := 0
	for i, h := range a.Config.History {
		st := parseStep(h.CreatedBy)
		st.Index = i + 1
		if st.Instruction == "RUN" {
			st.Commands, st.ParseErr = parseScriptErr(st.Script)
		}
		if !h.EmptyLayer {
			st.Base = layer < len(a.Layers) && a.Layers[layer].Base
			layer++
		}
		steps = append(steps, st)
	}
	return steps
}

// firstLayerStep returns the index in steps of the first step that made a
// layer, -1 when none did.
func firstLayerStep(cfg *inventory.ImageConfig) int {
	if cfg == nil {
		return -1
	}
	for i, h := range cfg.History {
		if !h.EmptyLayer {
			return i
		}
	}
	return -1
}

// addSources returns the sources of a BuildKit "ADD [--flags] src... dst";
// the classic builder records "file:<sha> in /dst" and hides them.
func addSources(args string) []string {
	words := strings.Fields(args)
	var srcs []string
	for _, w := range words {
		if strings.HasPrefix(w, "--") {
			continue
		}
		srcs = append(srcs, w)
	}
	if len(srcs) < 2 {
		return nil
	}
	if len(srcs) == 3 && srcs[1] == "in" { // classic "file:<sha> in /dst"
		return nil
	}
	return srcs[:len(srcs)-1]
}

// isLocalArchive reports whether an ADD source is a local tar archive,
// the one case ADD exists for (it unpacks it).
func isLocalArchive(src string) bool {
	if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
		return false
	}
	base := strings.ToLower(path.Base(src))
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.lz", ".tar.lzma"} {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}
