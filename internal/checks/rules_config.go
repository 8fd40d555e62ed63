package checks

import (
	"path"
	"sort"
	"strings"
)

const noConfig = "the image has no configuration (history, user, env)"

func checkRootUser(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	user := strings.TrimSpace(in.config.User)
	name, _, _ := strings.Cut(user, ":")
	switch {
	case name == "":
		return outcome{alerts: []string{"last USER is not set: the container runs as root"}}
	case name == "root" || strings.TrimLeft(name, "0") == "" && isDigits(name):
		return outcome{alerts: []string{"last USER is " + user + ": the container runs as root"}}
	case !isDigits(name):
		if b, ok := in.content(passwdPath); ok {
			accounts, _ := parseAccounts(passwdPath, b)
			for _, a := range accounts {
				if a.Name == name && strings.TrimLeft(a.ID, "0") == "" {
					return outcome{alerts: []string{"last USER " + name + " has UID 0 in etc/passwd: the container runs as root"}}
				}
			}
		}
	}
	return outcome{}
}

func checkContentTrust(in *input) outcome {
	if in.opts.ContentTrust {
		return outcome{}
	}
	return outcome{alerts: []string{"export DOCKER_CONTENT_TRUST=1 before docker pull/build/push"}}
}

func checkHealthcheck(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	hc := in.config.Healthcheck
	switch {
	case len(hc) == 0:
		return outcome{alerts: []string{"no HEALTHCHECK instruction"}}
	case strings.EqualFold(hc[0], "NONE"):
		return outcome{alerts: []string{"HEALTHCHECK NONE disables the health check"}}
	}
	return outcome{}
}

// Volumes that expose the host's system directories when bind-mounted:
// exact paths, and trees where any sub-path is sensitive too.
var (
	sensitiveVolumes     = map[string]bool{"/": true, "/etc": true, "/usr": true, "/lib": true, "/lib64": true, "/var/run": true, "/run": true}
	sensitiveVolumeTrees = []string{"/proc", "/sys", "/dev", "/boot", "/lib/modules", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd"}
)

func checkVolumes(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	var o outcome
	for _, v := range in.config.Volumes {
		p := path.Clean("/" + strings.TrimSpace(v))
		sensitive := sensitiveVolumes[p]
		for _, t := range sensitiveVolumeTrees {
			if p == t || strings.HasPrefix(p, t+"/") {
				sensitive = true
			}
		}
		if sensitive {
			o.alerts = append(o.alerts, "VOLUME "+v)
		}
	}
	return o
}

// checkLatest looks at the tag the user named; without one (an archive, a
// digest) at the image's own tags: an image tagged only latest is flagged.
func checkLatest(in *input) outcome {
	if in.opts.Tag != "" {
		if in.opts.Tag == "latest" {
			return outcome{alerts: []string{"the image is referenced by the tag latest"}}
		}
		return outcome{}
	}
	tags := in.inv.Artifact.RepoTags
	for _, t := range tags {
		if tagOf(t) != "latest" {
			return outcome{}
		}
	}
	if len(tags) == 0 {
		return outcome{}
	}
	return outcome{alerts: []string{"the image is tagged only " + strings.Join(tags, ", ")}}
}

// tagOf returns the tag of a repo tag reference ("host:5000/app:1.0" ->
// "1.0"), "latest" when it has none.
func tagOf(ref string) string {
	colon := strings.LastIndexByte(ref, ':')
	if colon < 0 || strings.Contains(ref[colon:], "/") {
		return "latest"
	}
	return ref[colon+1:]
}

// checkSudo looks at RUN steps and at what the container runs.
func checkSudo(in *input) outcome {
	if in.config == nil {
		return skipped(noConfig)
	}
	var o outcome
	for _, s := range in.steps {
		if s.Instruction != "RUN" {
			continue
		}
		for _, c := range s.Commands {
			if c.Sudo {
				o.alerts = append(o.alerts, s.Display()+" ("+s.Where()+")")
				break
			}
		}
	}
	for _, run := range []struct {
		what string
		args []string
	}{{"ENTRYPOINT", in.config.Entrypoint}, {"CMD", in.config.Cmd}} {
		for _, c := range execCommands(run.args) {
			if c.Sudo {
				o.alerts = append(o.alerts, run.what+" runs sudo")
				break
			}
		}
	}
	return o
}

// execCommands reads an exec-form ENTRYPOINT or CMD, following `sh -c`.
func execCommands(args []string) []command {
	c, ok := simpleCommand(args)
	if !ok {
		return nil
	}
	out := []command{c}
	if script, ok := nestedScript(c); ok {
		out = append(out, parseScript(script)...)
	}
	return out
}

// checkCredentials reports credential-looking config entries, history
// assignments and files; never their values.
func checkCredentials(in *input) outcome {
	var o outcome
	reported := map[string]bool{}
	report := func(key, alert string) {
		if !reported[key] {
			reported[key] = true
			o.alerts = append(o.alerts, alert)
		}
	}
	check := func(what, name, value, where string) {
		if !literalValue(value) {
			return
		}
		suffix := ""
		if where != "" {
			suffix = " (" + where + ")"
		}
		if suspiciousName(name, in.accept) {
			report(what+" "+name, "suspicious "+what+" key found: "+name+suffix)
		} else if kind := credentialValue(value); kind != "" && !in.accept[strings.ToUpper(name)] {
			report(what+" "+name, what+" "+name+" holds a value that looks like a "+kind+suffix)
		}
	}
	if in.config != nil {
		for _, e := range in.config.Env {
			k, v, _ := strings.Cut(e, "=")
			check("ENV", k, v, "")
		}
		labels := make([]string, 0, len(in.config.Labels))
		for k := range in.config.Labels {
			labels = append(labels, k)
		}
		sort.Strings(labels)
		for _, k := range labels {
			check("LABEL", k, in.config.Labels[k], "")
		}
	}
	for _, s := range in.steps {
		switch s.Instruction {
		case "ENV", "ARG", "LABEL":
			for _, kv := range instructionPairs(s.Args) {
				what := s.Instruction
				if what == "ARG" {
					what = "build ARG"
				}
				check(what, kv[0], kv[1], s.Where())
			}
		case "RUN":
			for _, a := range s.BuildArgs {
				k, v, _ := strings.Cut(a, "=")
				check("build ARG", k, v, s.Where())
			}
			for _, c := range s.Commands {
				for _, a := range c.Assigns {
					k, v, _ := strings.Cut(a, "=")
					check("RUN variable", k, v, s.Where())
				}
			}
		}
	}
	paths, facts := in.factsByPath(FactCredential)
	for _, p := range paths {
		for _, f := range facts[p] {
			o.alerts = append(o.alerts, p+": "+f.Detail)
		}
	}
	return o
}

// instructionPairs reads the NAME=value pairs of ENV, ARG or LABEL
// arguments; the legacy "ENV NAME value" form gives one pair.
func instructionPairs(args string) [][2]string {
	words := make([]string, 0, 4)
	for _, t := range lex(args) {
		if !t.op {
			words = append(words, t.text)
		}
	}
	if len(words) == 0 {
		return nil
	}
	if !strings.Contains(words[0], "=") {
		return [][2]string{{words[0], strings.Join(words[1:], " ")}}
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if ok && k != "" {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}
