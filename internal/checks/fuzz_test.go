package checks

import (
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// FuzzHistory feeds arbitrary CreatedBy strings through the step parser,
// the shell reader and every history rule.
func FuzzHistory(f *testing.F) {
	for _, s := range []string{
		"/bin/sh -c #(nop) ADD file:3c4a in / ",
		`/bin/sh -c #(nop)  CMD ["/bin/sh"]`,
		"|2 A=1 B=2 /bin/sh -c apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*",
		"RUN |1 TOKEN=abc /bin/sh -c sudo -u x make # buildkit",
		"RUN /bin/bash -o pipefail -c curl -fsSL https://u:p@x | sh # buildkit",
		"ADD --chown=1:1 a.tar.gz https://x/y /dst/ # buildkit",
		`RUN /bin/sh -c sh -c "sh -c 'sh -c \"apk add x\"'" # buildkit`,
		"/bin/sh -c #(nop)  ENV A=\"x y\" B='z' C",
		"RUN /bin/sh -c if [ x ]; then (cd a && $(echo `b`) ${c:-d}) 2>&1 >/dev/null <<EOF\nx\nEOF\nfi",
		"echo \"unterminated $(also ${open",
		"|9999999999999999999 A",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, createdBy string) {
		st := parseStep(createdBy)
		cmds := parseScript(st.Script)
		if len(cmds) > len(st.Script)+1 && len(st.Script) < maxScriptBytes {
			t.Fatalf("%d commands from %d bytes", len(cmds), len(st.Script))
		}
		for _, c := range cmds {
			isUpgrade(c)
			nestedScript(c)
		}
		_ = st.Display()
		instructionPairs(st.Args)
		addSources(st.Args)
		cfg := &inventory.ImageConfig{History: []inventory.HistoryEntry{{CreatedBy: createdBy}}, Entrypoint: strings.Fields(createdBy)}
		inv := &inventory.Inventory{Artifact: inventory.Artifact{Config: cfg}}
		Run(inv, Options{})
	})
}

// FuzzAccounts parses arbitrary account files and runs the account rules.
func FuzzAccounts(f *testing.F) {
	f.Add("root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n", "root::1:0:::::\n", "root:x:0:\nwheel:x:0:\n")
	f.Add("# c\n+\n-x\n\n:::\n", "x", "a:b:c:d")
	f.Add("a:x:00:0:::\nb:x:0:0:::", "\r\n", "g:x:abc:")
	f.Fuzz(func(t *testing.T, passwd, shadow, group string) {
		for file, content := range map[string]string{passwdPath: passwd, shadowPath: shadow, groupPath: group} {
			accounts, errs := parseAccounts(file, []byte(content))
			for _, a := range accounts {
				if a.Name == "" || a.Line <= 0 {
					t.Fatalf("%s: bad account %+v", file, a)
				}
			}
			for _, err := range errs {
				if !strings.HasPrefix(err.Error(), file+":") {
					t.Fatalf("error without file: %v", err)
				}
			}
		}
		inv := &inventory.Inventory{
			Artifact: inventory.Artifact{Config: &inventory.ImageConfig{User: strings.SplitN(passwd, ":", 2)[0]}},
			Contents: map[string][]byte{passwdPath: []byte(passwd), shadowPath: []byte(shadow), groupPath: []byte(group)},
		}
		Run(inv, Options{})
	})
}

// FuzzConfigFiles runs every credential-config detector on arbitrary
// content; a detector must never return the content it was given.
func FuzzConfigFiles(f *testing.F) {
	f.Add("//r/:_authToken=abc\n_auth=\"x\"\n")
	f.Add("machine a login u password p\nmacdef x\npassword y\n\npassword")
	f.Add(`{"auths":{"a":{"auth":"dTpw"}}}`)
	f.Add("[pypi]\npassword = pypi-x\nnpmAuthToken: t\nhttps://u:tok@h\n")
	f.Fuzz(func(t *testing.T, content string) {
		for _, p := range []string{".npmrc", ".yarnrc.yml", ".pypirc", ".netrc", ".git-credentials", ".docker/config.json", ".git/config"} {
			base := p[strings.LastIndexByte(p, '/')+1:]
			d, ok := credentialConfig(p, base)
			if !ok {
				t.Fatalf("no detector for %s", p)
			}
			found, _ := d.detect([]byte(content))
			for _, s := range found {
				if len(content) > 12 && strings.Contains(s, content) {
					t.Fatalf("%s: finding %q repeats the content", p, s)
				}
			}
		}
	})
}

// FuzzNames checks the name and value classifiers on arbitrary text.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"AWS_SECRET_ACCESS_KEY", "dbPassword", "GPG_KEY", "postgres://u:p@h", "AKIAIOSFODNN7EXAMPLE", "ÄÖÜ_ß_KEY", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		suspiciousName(s, nil)
		credentialValue(s)
		if out := redact(s); strings.Contains(s, "=") && len(out) > len(s)+len("****")*strings.Count(s, "=")+8 {
			t.Fatalf("redact grew %q to %q", s, out)
		}
	})
}
