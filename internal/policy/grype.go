package policy

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// LoadGrypeConfig reads the ignore: rules of a Grype config file
// (.grype.yaml) as Grype documents them:
//
//	ignore:
//	  - vulnerability: CVE-2008-4318
//	    fix-state: unknown
//	    package:
//	      name: libcurl
//	      version: 1.5.1
//	      type: npm
//	      location: "/usr/local/lib/node_modules/**"
//
// Every other key of the file is Grype's own and is not read. Rule keys
// Vigil cannot honour (match-type, namespace, vex-status) are errors,
// not silently broader or narrower rules.
func LoadGrypeConfig(path string) (*Policy, error) {
	data, err := readLimited(path, maxPolicySize)
	if err != nil {
		return nil, err
	}
	return parseGrypeConfig(path, data)
}

var (
	grypeRuleKeys    = []string{"vulnerability", "reason", "fix-state", "package", "include-aliases", "namespace", "match-type", "vex-status", "vex-justification"}
	grypePackageKeys = []string{"name", "version", "type", "location", "upstream-name", "language"}
	grypeFixStates   = []vuln.FixState{vuln.FixStateFixed, vuln.FixStateNotFixed, vuln.FixStateWontFix, vuln.FixStateUnknown}
)

// grypeTypes maps Grype's package types to purl types, which Vigil's
// findings carry.
var grypeTypes = map[string]string{
	"apk": "apk", "deb": "deb", "rpm": "rpm", "npm": "npm", "python": "pypi",
	"java-archive": "maven", "jenkins-plugin": "maven", "gem": "gem",
	"go-module": "golang", "rust-crate": "cargo", "dotnet": "nuget",
	"php-composer": "composer", "hex": "hex", "erlang-otp": "hex",
	"dart-pub": "pub", "binary": "generic",
	// package.language values
	"javascript": "npm", "java": "maven", "go": "golang", "ruby": "gem",
	"rust": "cargo", "php": "composer",
}

func parseGrypeConfig(file string, data []byte) (*Policy, error) {
	return parseGrypePieces(file, data, chunkBytes)
}

// parseGrypePieces parses the ignore list of a large config in pieces
// (yamlchunks.go): yaml.v3's node tree of a whole 8 MiB file is about
// 100 MB.
func parseGrypePieces(file string, data []byte, piece int) (*Policy, error) {
	return inPieces(data, []string{"ignore"}, piece, func(data []byte, lists map[string][]yamlChunk) (*Policy, error) {
		return parseGrypeLists(file, data, lists)
	})
}

func parseGrypeLists(file string, data []byte, lists map[string][]yamlChunk) (*Policy, error) {
	root, err := yamlDoc(file, data)
	if err != nil {
		return nil, err
	}
	p := &Policy{Sources: []string{file}}
	if root == nil {
		return p, nil
	}
	r := nodeReader{file: file, lists: lists}
	err = r.fields(root, "the Grype config", nil, func(key string, _, v *yaml.Node) error {
		if key != "ignore" {
			return nil
		}
		return r.each(v, "ignore", func(n *yaml.Node) error {
			rule, err := r.grypeRule(n)
			p.vulns = append(p.vulns, rule)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (r nodeReader) grypeRule(n *yaml.Node) (vulnRule, error) {
	rule := vulnRule{ruleBase: ruleBase{kind: KindIgnoreFile, source: r.file, line: n.Line}}
	err := r.fields(n, "an ignore rule", grypeRuleKeys, func(key string, _, v *yaml.Node) error {
		switch key {
		case "vulnerability":
			id, err := r.scalar(v, key)
			if err != nil {
				return err
			}
			rule.id = strings.ToUpper(id)
		case "reason":
			s, err := r.scalar(v, key)
			rule.reason = s
			return err
		case "fix-state":
			s, err := r.scalar(v, key)
			if err != nil {
				return err
			}
			rule.fixState = vuln.FixState(strings.ToLower(s))
			if !slices.Contains(grypeFixStates, rule.fixState) {
				return r.errf(v, "fix-state %q: want fixed, not-fixed, wont-fix or unknown", s)
			}
		case "include-aliases":
			// Vigil always matches a rule's id against a finding's aliases.
		case "package":
			return r.grypePackage(v, &rule)
		default:
			return r.errf(v, "%s is not supported by Vigil (VEX documents go to --vex; the rule would match differently than in Grype)", key)
		}
		return nil
	})
	if err != nil {
		return rule, err
	}
	if rule.id == "" && rule.pkg == nil && rule.path == nil && rule.version == "" && rule.pkgType == "" && rule.fixState == "" {
		return rule, r.errf(n, "an ignore rule needs a vulnerability, a fix-state or a package")
	}
	if rule.reason == "" {
		rule.reason = "ignored by " + filepath.Base(r.file)
	}
	return rule, nil
}

func (r nodeReader) grypePackage(v *yaml.Node, rule *vulnRule) error {
	return r.fields(v, "package", grypePackageKeys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "name", "upstream-name":
			rule.pkg, err = r.glob(v, key)
		case "version":
			rule.version, err = r.scalar(v, key)
		case "type", "language":
			var t string
			if t, err = r.scalar(v, key); err == nil {
				rule.pkgType = cmp.Or(grypeTypes[strings.ToLower(t)], strings.ToLower(t))
			}
		case "location":
			rule.path, err = r.glob(v, "path")
		}
		return err
	})
}
