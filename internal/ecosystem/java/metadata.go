package java

import (
	"bufio"
	"bytes"
	"cmp"
	"path"
	"regexp"
	"strings"
)

// parseProperties reads a Java .properties file (pom.properties) into a
// map: "key=value" or "key: value" lines, '#' and '!' comments. Line
// continuations never occur in generated pom.properties and are not joined.
func parseProperties(content []byte) map[string]string {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), maxMetadataBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			continue
		}
		props[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return props
}

// pomArtifact returns the artifact a pom.properties names, if complete.
func pomArtifact(content []byte) (artifact, bool) {
	p := parseProperties(content)
	a := artifact{group: p["groupId"], name: p["artifactId"], version: p["version"], source: "pom.properties"}
	return a, a.group != "" && a.name != "" && a.version != "" && !strings.Contains(a.version, "${")
}

// parseManifest reads the main section of a MANIFEST.MF: "Name: value"
// headers, continuation lines starting with one space, ending at the first
// blank line.
func parseManifest(content []byte) map[string]string {
	headers := map[string]string{}
	var last string
	content = bytes.ReplaceAll(content, []byte("\r\n"), []byte("\n"))
	for _, line := range strings.Split(string(content), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			if len(headers) > 0 {
				break
			}
			continue
		}
		if line[0] == ' ' {
			if last != "" {
				headers[last] += line[1:]
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			last = ""
			continue
		}
		last = strings.TrimSpace(name)
		headers[last] = strings.TrimSpace(value)
	}
	return headers
}

// manifestArtifact derives an artifact from manifest headers. The artifact
// id is the last element of Bundle-SymbolicName, else the file name, else
// the implementation or specification title; the group is
// Implementation-Vendor-Id, else the rest of Bundle-SymbolicName.
func manifestArtifact(h map[string]string, fileName string) (artifact, bool) {
	a := artifact{source: "manifest", licenses: manifestLicenses(h)}
	a.version = cmp.Or(h["Implementation-Version"], h["Bundle-Version"], h["Specification-Version"])
	symbolic, _, _ := strings.Cut(h["Bundle-SymbolicName"], ";")
	symbolic = strings.TrimSpace(symbolic)
	symGroup, symName := "", symbolic
	if i := strings.LastIndexByte(symbolic, '.'); i > 0 {
		symGroup, symName = symbolic[:i], symbolic[i+1:]
	}
	fileStem, _ := splitFileName(fileName)
	title := strings.ReplaceAll(cmp.Or(h["Implementation-Title"], h["Specification-Title"]), " ", "-")
	a.name = cmp.Or(symName, fileStem, title)
	a.group = cmp.Or(h["Implementation-Vendor-Id"], symGroup)
	return a, a.name != "" && a.version != ""
}

// manifestLicenses splits Bundle-License ("Apache-2.0, MIT" or a URL),
// dropping OSGi attributes such as ";link=...".
func manifestLicenses(h map[string]string) []string {
	var out []string
	for _, l := range strings.Split(h["Bundle-License"], ",") {
		l, _, _ = strings.Cut(l, ";")
		if l = strings.Trim(strings.TrimSpace(l), `"`); l != "" {
			out = append(out, l)
		}
	}
	return out
}

var fileVersion = regexp.MustCompile(`^(.+?)-(\d[0-9A-Za-z.+_-]*)$`)

// splitFileName splits "commons-io-2.11.0.jar" into "commons-io" and
// "2.11.0"; version is "" when the name carries none.
func splitFileName(name string) (stem, version string) {
	stem = strings.TrimSuffix(path.Base(name), path.Ext(name))
	if m := fileVersion.FindStringSubmatch(stem); m != nil {
		return m[1], m[2]
	}
	return stem, ""
}

// fileNameArtifact is the last resort: "name-1.2.3.jar" with no group.
func fileNameArtifact(fileName string) (artifact, bool) {
	stem, version := splitFileName(fileName)
	return artifact{name: stem, version: version, source: "filename"}, stem != "" && version != ""
}
