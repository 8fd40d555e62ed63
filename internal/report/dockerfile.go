package report

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"regexp"
	"strings"
)

// maxDockerfileSize bounds how much of a Dockerfile SARIF reads to locate steps.
const maxDockerfileSize = 1 << 20

// dockerStep is one Dockerfile instruction with its first line (1-based).
type dockerStep struct {
	Line    int
	Keyword string // upper case: RUN, COPY, ...
	Args    string // whitespace-collapsed arguments
}

// readDockerfile parses the instructions of a Dockerfile, joining
// continuation lines; a missing or unreadable file gives no steps, since
// locating findings in it is best effort.
func readDockerfile(path string) []dockerStep {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDockerfileSize))
	if err != nil {
		return nil
	}
	return parseDockerfile(data)
}

func parseDockerfile(data []byte) []dockerStep {
	var steps []dockerStep
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxDockerfileSize)
	var cur strings.Builder
	start, n := 0, 0
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		kw, args, _ := strings.Cut(text, " ")
		steps = append(steps, dockerStep{Line: start, Keyword: strings.ToUpper(kw), Args: oneLine(args)})
	}
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return steps
}

var (
	shellPrefix   = regexp.MustCompile(`^(/bin/(ba)?sh -c\s+)?(#\(nop\)\s*)?`)
	buildkitArgs  = regexp.MustCompile(`^\|\d+\s+(\S+=\S*\s+)*`)
	buildkitTrail = regexp.MustCompile(`\s*# buildkit$`)
)

// normalizeCreatedBy turns a history created_by into "KEYWORD args":
// "/bin/sh -c apk add x" -> "RUN apk add x", "/bin/sh -c #(nop)  CMD [..]"
// -> "CMD [..]", "RUN |1 A=b /bin/sh -c x # buildkit" -> "RUN x".
func normalizeCreatedBy(s string) (keyword, args string) {
	s = strings.TrimSpace(buildkitTrail.ReplaceAllString(strings.TrimSpace(s), ""))
	if rest, ok := strings.CutPrefix(s, "RUN "); ok {
		rest = buildkitArgs.ReplaceAllString(rest, "")
		rest = shellPrefix.ReplaceAllString(rest, "")
		return "RUN", oneLine(rest)
	}
	nop := strings.Contains(s, "#(nop)")
	s = shellPrefix.ReplaceAllString(s, "")
	if !nop && !startsWithKeyword(s) {
		return "RUN", oneLine(s)
	}
	kw, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	return strings.ToUpper(kw), oneLine(rest)
}

func startsWithKeyword(s string) bool {
	kw, _, _ := strings.Cut(s, " ")
	switch strings.ToUpper(kw) {
	case "COPY", "ADD", "ENV", "CMD", "ENTRYPOINT", "WORKDIR", "USER", "LABEL", "EXPOSE", "VOLUME", "ARG", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "ONBUILD":
		return kw == strings.ToUpper(kw)
	}
	return false
}

// stepLine returns the line of the Dockerfile step that created a layer,
// 0 when none matches. The last match wins: in a multi-stage build the
// final stage's step is the one that produced the image layer.
func stepLine(steps []dockerStep, createdBy string) int {
	if createdBy == "" {
		return 0
	}
	kw, args := normalizeCreatedBy(createdBy)
	line := 0
	for _, st := range steps {
		if st.Keyword != kw {
			continue
		}
		switch kw {
		case "COPY", "ADD":
			// History shows "COPY file:<hash> in /dst"; compare destinations.
			if lastField(st.Args) == lastField(args) {
				line = st.Line
			}
		default:
			if st.Args == args {
				line = st.Line
			}
		}
	}
	return line
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimSuffix(f[len(f)-1], "/")
}

// lastFromLine is the line of the last FROM: the final stage's base image.
func lastFromLine(steps []dockerStep) int {
	line := 0
	for _, st := range steps {
		if st.Keyword == "FROM" {
			line = st.Line
		}
	}
	return line
}
