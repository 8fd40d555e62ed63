package policy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

func addSeed(f *testing.F, name string) {
	f.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

// Parsed policies are applied to the fixture report too, so matching code
// sees whatever the parser lets through.
func FuzzParseFile(f *testing.F) {
	addSeed(f, "vigil.yaml")
	f.Add([]byte("ignore:\n  - {id: CVE-1, reason: &r x}\n  - {package: 'pkg:npm/**', reason: *r, expires: 2020-01-01}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := parseFile("p.yaml", data)
		if err != nil {
			return
		}
		r := reporttest.Report()
		p.Apply(r, testNow)
		Evaluate(r, GateOptions{Threshold: "LOW", CheckLevel: "INFO", FailOnSecrets: true})
	})
}

func FuzzParseAllowlist(f *testing.F) {
	addSeed(f, "allowedlist.yaml")
	f.Add([]byte("general:\n  vulnerabilities:\n    - |\n      CVE-1 exp:2020-01-01\n      # c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseAllowlist("a.yaml", data)
		if err != nil {
			return
		}
		p.Apply(reporttest.Report(), testNow)
	})
}

func FuzzParseVEX(f *testing.F) {
	addSeed(f, "app.openvex.json")
	addSeed(f, "app.cdx.json")
	f.Add([]byte(`{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":"CVE-2019-5482","products":["pkg:oci/app"],"subcomponents":["pkg:apk/alpine/curl"],"status":"fixed"}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.4","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"exploitable"},"affects":[{"ref":"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#a%20b"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		stmts, err := parseVEX("v.json", data)
		if err != nil {
			return
		}
		(&Policy{vex: stmts}).Apply(reporttest.Report(), testNow)
	})
}

func FuzzGlob(f *testing.F) {
	for _, s := range []string{"libssl*", "opt/**/x", "[!a-c]?", `a\*`, "[]]", "ü[ü-ÿ]"} {
		f.Add(s, "libssl1.1")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		g, err := compileGlob(pattern)
		if err != nil {
			return
		}
		g.match(s)
	})
}

func FuzzParseIgnoreFiles(f *testing.F) {
	addSeed(f, "trivyignore")
	addSeed(f, "trivyignore.yaml")
	addSeed(f, "grype.yaml")
	f.Add([]byte("CVE-1 exp:2020-01-01 # c\n#\n\nx"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func(string, []byte) (*Policy, error){parseTrivyIgnore, parseTrivyIgnoreYAML, parseGrypeConfig} {
			p, err := parse("p", data)
			if err != nil {
				continue
			}
			r := reporttest.Report()
			p.Apply(r, testNow)
		}
	})
}
