package checks

import (
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
)

func TestParseStep(t *testing.T) {
	tests := []struct {
		createdBy string
		want      step
	}{
		{"/bin/sh -c #(nop) ADD file:3c4a in / ", step{Instruction: "ADD", Args: "file:3c4a in /"}},
		{`/bin/sh -c #(nop)  CMD ["/bin/sh"]`, step{Instruction: "CMD", Args: `["/bin/sh"]`}},
		{"/bin/sh -c #(nop)  ENV A=1 B=2", step{Instruction: "ENV", Args: "A=1 B=2"}},
		{"/bin/sh -c apk add --no-cache curl", step{Instruction: "RUN", Args: "/bin/sh -c apk add --no-cache curl", Script: "apk add --no-cache curl"}},
		{"|2 A=1 B=x /bin/sh -c make", step{Instruction: "RUN", Args: "/bin/sh -c make", BuildArgs: []string{"A=1", "B=x"}, Script: "make"}},
		{"RUN |1 TOKEN=abc /bin/sh -c npm ci # buildkit", step{Instruction: "RUN", Args: "/bin/sh -c npm ci", BuildArgs: []string{"TOKEN=abc"}, Script: "npm ci"}},
		{"RUN /bin/bash -o pipefail -c curl x | sh # buildkit", step{Instruction: "RUN", Args: "/bin/bash -o pipefail -c curl x | sh", Script: "curl x | sh"}},
		{"RUN /bin/sh -ec set -x; make # buildkit", step{Instruction: "RUN", Args: "/bin/sh -ec set -x; make", Script: "set -x; make"}},
		{"ADD app.tar.gz /srv # buildkit", step{Instruction: "ADD", Args: "app.tar.gz /srv"}},
		{"COPY --from=build /out /app # buildkit", step{Instruction: "COPY", Args: "--from=build /out /app"}},
		{"RUN apk add curl", step{Instruction: "RUN", Args: "apk add curl", Script: "apk add curl"}}, // kaniko
		{"apt-get install -y x", step{Instruction: "RUN", Args: "apt-get install -y x", Script: "apt-get install -y x"}},
		{"cmd /S /C powershell iwr x", step{Instruction: "RUN", Args: "cmd /S /C powershell iwr x", Script: "powershell iwr x"}},
		{"", step{Instruction: "RUN"}},
		{"|x A=1 /bin/sh -c y", step{Instruction: "RUN", Args: "|x A=1 /bin/sh -c y", Script: "|x A=1 /bin/sh -c y"}},
	}
	for _, tt := range tests {
		got := parseStep(tt.createdBy)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseStep(%q)\n got %+v\nwant %+v", tt.createdBy, got, tt.want)
		}
	}
}

func TestStepDisplayRedacts(t *testing.T) {
	s := parseStep(`RUN |1 NPM_TOKEN=abc /bin/sh -c DB_PASSWORD=hunter2 ./init && git clone https://u:pw123@host/x # buildkit`)
	got := s.Display()
	want := "RUN DB_PASSWORD=**** ./init && git clone https://u:****@host/x"
	if got != want {
		t.Errorf("Display() = %q, want %q", got, want)
	}
	long := parseStep("RUN " + strings.Repeat("x", 500)).Display()
	if r := []rune(long); len(r) > 210 || !strings.HasSuffix(long, "…") {
		t.Errorf("long step not shortened: %d runes", len(r))
	}
}

func names(cmds []command) []string {
	var out []string
	for _, c := range cmds {
		n := c.Name
		if c.Sudo {
			n = "sudo:" + n
		}
		out = append(out, n)
	}
	return out
}

func TestParseScript(t *testing.T) {
	tests := []struct {
		script string
		want   []string
	}{
		{"apt-get update && apt-get install -y x; rm -rf /var/lib/apt/lists/*", []string{"apt-get", "apt-get", "rm"}},
		{"set -eux; \\\n  apk add --no-cache curl \\\n  && rm -rf /tmp/*", []string{"set", "apk", "rm"}},
		{`if [ -f x ]; then sudo apt-get install y; fi`, []string{"[", "sudo:apt-get"}},
		{`for p in a b; do echo $p; done`, []string{"echo"}},
		{`FOO=1 BAR="a b" make install > /dev/null 2>&1 || true`, []string{"make", "true"}},
		{`sh -c "apk add git && echo 'done; ok'"`, []string{"sh", "apk", "echo"}},
		// Commands inside substitutions run too.
		{`VERSION=$(cat /v | tr -d '\n') && curl -fsSL "https://x/${VERSION}" | tar -xz`, []string{"", "cat", "tr", "curl", "tar"}},
		{"echo `sudo id -u` \"$(apt-get update)\"", []string{"echo", "sudo:id", "apt-get"}},
		{"X=\"$(echo `apk add curl`)\"", []string{"", "echo", "apk"}},
		// A heredoc fed to a shell is a script; one fed to cat is data.
		{"bash <<EOF\napt-get update\nsudo make\nEOF\ncat <<'X' > /f\napt-get install y\nX", []string{"bash", "apt-get", "sudo:make", "cat"}},
		{"sh -e <<-EOF\n\tapk add git\n\tEOF", []string{"sh", "apk"}},
		// Quoting the hand-written splitter got wrong: a ; inside $(...) in
		// double quotes, an escaped quote, sh -c nested twice.
		{`echo "$(a; b)" && c`, []string{"echo", "a", "b", "c"}},
		{`sh -c "bash -c 'apt-get update; apt-get install -y \"x y\"'"`, []string{"sh", "bash", "apt-get", "apt-get"}},
		{`f() { sudo rm -rf /x; }; f`, []string{"sudo:rm", "f"}},
		{`case $x in a) apt-get update ;; esac`, []string{"apt-get"}},
		{`sudo -u app -E env A=1 /usr/bin/make`, []string{"sudo:make"}},
		{"echo `id -u` # comment && rm x", []string{"echo", "id"}},
		{`(cd /src && make) &`, []string{"cd", "make"}},
		{`echo "unterminated`, []string{"echo"}},
		{`xargs -n1 sudo rm < list`, []string{"sudo:rm"}},
		{`echo a\ b`, []string{"echo"}},
	}
	for _, tt := range tests {
		if got := names(parseScript(tt.script)); !slices.Equal(got, tt.want) {
			t.Errorf("parseScript(%q) = %q, want %q", tt.script, got, tt.want)
		}
	}
	c := parseScript(`FOO=1 BAR="a b" make install > /dev/null 2>&1`)[0]
	if !slices.Equal(c.Args, []string{"install"}) || !slices.Equal(c.Assigns, []string{"FOO=1", "BAR=a b"}) {
		t.Errorf("args %q assigns %q", c.Args, c.Assigns)
	}
	if c := parseScript(`sh -c 'apt-get install -y "a b"'`)[1]; !slices.Equal(c.Args, []string{"install", "-y", "a b"}) {
		t.Errorf("nested args %q", c.Args)
	}
	c = parseScript(`export API_KEY=abc PATH=/x`)[0]
	if !slices.Equal(c.Assigns, []string{"API_KEY=abc", "PATH=/x"}) {
		t.Errorf("export assigns %q", c.Assigns)
	}
}

// A script the shell parser rejects is read by the fallback splitter, and
// the caller learns why.
func TestParseScriptFallback(t *testing.T) {
	for _, script := range []string{`echo "unterminated && sudo rm x`, "apt-get update && (", strings.Repeat("$(", 5000) + "x"} {
		cmds, err := parseScriptErr(script)
		if err == nil {
			t.Errorf("%q: no parse error", script[:min(len(script), 40)])
		}
		if script == "apt-get update && (" && !slices.Equal(names(cmds), []string{"apt-get"}) {
			t.Errorf("fallback commands %q", names(cmds))
		}
	}
	if _, err := parseScriptErr("apt-get update && apt-get install -y x"); err != nil {
		t.Errorf("valid script: %v", err)
	}
}

func TestPackageManagerRules(t *testing.T) {
	upgrade := []string{"apt-get -y upgrade", "apt -o Dpkg::Options::=--force-confnew dist-upgrade", "apk upgrade",
		"apk -U upgrade --available", "yum -y update", "dnf upgrade --refresh", "microdnf update", "zypper -n up"}
	notUpgrade := []string{"apt-get install -y x", "apk upgrade musl", "yum update openssl", "apk add --upgrade x",
		"echo upgrade", "apt-get -o upgrade install x"}
	for _, s := range upgrade {
		if !isUpgrade(parseScript(s)[0]) {
			t.Errorf("%q not seen as an upgrade", s)
		}
	}
	for _, s := range notUpgrade {
		if isUpgrade(parseScript(s)[0]) {
			t.Errorf("%q seen as an upgrade", s)
		}
	}
	cleaned := []string{"rm -rf /var/lib/apt/lists/*", "rm -fr /var/lib/apt/lists", "find /var/lib/apt/lists -type f -delete"}
	for _, s := range cleaned {
		if !removes(parseScript(s), "/var/lib/apt/lists") {
			t.Errorf("%q does not remove the lists", s)
		}
	}
	if removes(parseScript("rm -rf /var/lib/apt/listsX /tmp"), "/var/lib/apt/lists") {
		t.Error("listsX counted as the lists dir")
	}
}

func TestSuspiciousName(t *testing.T) {
	yes := []string{"PASSWORD", "DB_PASSWORD", "dbPassword", "MYSQL_ROOT_PASSWORD", "AWS_SECRET_ACCESS_KEY", "API_KEY",
		"apiKey", "GITHUB_TOKEN", "NPM_TOKEN", "SECRET", "client-secret", "DBPASSWD", "REDIS_PASS", "SSH_PRIVATE_KEY",
		"org.example.api-token", "STRIPE_APIKEY", "PASSPHRASE"}
	no := []string{"PATH", "GPG_KEY", "GPG_KEYS", "PYTHON_GPG_KEY", "NGINX_GPGKEY", "PUBLIC_KEY", "PWD", "HOME",
		"POSTGRES_PASSWORD_FILE", "TOKEN_URL", "AWS_ACCESS_KEY_ID", "TOKENIZERS_PARALLELISM", "KEYCLOAK_VERSION",
		"PASSTHROUGH", "JAVA_HOME", "", "_"}
	for _, n := range yes {
		if !suspiciousName(n, nil) {
			t.Errorf("%q not suspicious", n)
		}
	}
	for _, n := range no {
		if suspiciousName(n, nil) {
			t.Errorf("%q suspicious", n)
		}
	}
	if suspiciousName("MY_TOKEN", map[string]bool{"MY_TOKEN": true}) {
		t.Error("accepted name still suspicious")
	}
}

func TestCredentialValue(t *testing.T) {
	tests := map[string]string{
		"AKIAIOSFODNN7EXAMPLE":                       "AWS access key ID",
		"ghp_" + strings.Repeat("a", 36):             "GitHub token",
		"postgres://u:p4ss@db/x":                     "URL with an embedded password",
		"https://user:${PASS}@host":                  "",
		"https://host/path?x=1":                      "",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIE":      "private key",
		"xoxb-1234567890-abcdef":                     "Slack token",
		"/usr/local/bin:/usr/bin":                    "",
		"B42F6819007F00F88E364FD4036A9C25BF357DD4":   "",
		"glpat-" + strings.Repeat("x", 20):           "GitLab token",
		"sk_live_" + strings.Repeat("A", 24):         "Stripe secret key",
		"npm_" + strings.Repeat("b", 36):             "npm token",
		"ssh://git@github.com/org/repo.git":          "",
		"redis://:p4ssw0rd@cache:6379/0":             "URL with an embedded password",
		"amqp://guest:guest@rabbit:5672/" + "vhost":  "URL with an embedded password",
		"not a url: user:pass@host":                  "",
		"mongodb+srv://admin:S3cret@cluster.example": "URL with an embedded password",
	}
	for v, want := range tests {
		if got := credentialValue(v); got != want {
			t.Errorf("credentialValue(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestConfigDetectors(t *testing.T) {
	tests := []struct {
		path, content string
		want          []string
	}{
		{"root/.npmrc", "registry=https://r\n//r/:_authToken=abc\n; comment\n_auth = \"dXNlcjpwYXNz\"\n", []string{"//r/:_authToken (line 2)", "_auth (line 4)"}},
		{"root/.npmrc", "//r/:_authToken=${NPM_TOKEN}\nalways-auth=true\n", nil},
		{"app/.yarnrc.yml", "npmScopes:\n  corp:\n    npmAuthToken: abc123\n", []string{"npmAuthToken (line 3)"}},
		{"root/.pypirc", "[distutils]\nindex-servers = pypi\n[pypi]\nusername = __token__\npassword = pypi-AgEI\n", []string{"password (line 5)"}},
		{"root/.pypirc", "[pypi]\nusername = x\n", nil},
		{"root/.netrc", "machine a login u password p\nmachine b\n  login u\n  password\n  q\n", []string{"password (line 1)", "password (line 5)"}},
		{"root/.netrc", "macdef init\npassword x\n\nmachine a login u\n", nil},
		{"root/.git-credentials", "https://u:tok@github.com\n", []string{"URL with password (line 1)"}},
		{"root/.docker/config.json", `{"auths":{"b.io":{},"a.io":{"auth":"dTpw"}},"credsStore":"desktop"}`, []string{"auth for a.io"}},
		{"src/.git/config", "[remote \"o\"]\n\turl = git@github.com:o/r.git\n", nil},
	}
	for _, tt := range tests {
		base := tt.path[strings.LastIndexByte(tt.path, '/')+1:]
		d, ok := credentialConfig(tt.path, base)
		if !ok {
			t.Errorf("%s: no detector", tt.path)
			continue
		}
		got, err := d.detect([]byte(tt.content))
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s %q: got %q, want %q", tt.path, tt.content, got, tt.want)
		}
	}
	if _, err := dockerConfigCredentials([]byte("{not json")); err == nil {
		t.Error("broken Docker config: no error")
	}
	if _, ok := credentialConfig("app/config.json", "config.json"); ok {
		t.Error("any config.json treated as a Docker config")
	}
}

func TestParseAccounts(t *testing.T) {
	content := "# comment\nroot:x:0:0:root:/root:/bin/sh\n\n+nisuser::::::\nbroken:x\nbad:x:abc:0:::\n:x:5:5:::\nok:x:7:7:::\r\n"
	got, errs := parseAccounts(passwdPath, []byte(content))
	if len(got) != 2 || got[0].Name != "root" || got[1].Name != "ok" || got[1].ID != "7" || got[1].Line != 8 {
		t.Errorf("accounts %+v", got)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		"etc/passwd:5: 2 colon-separated fields, want 7",
		`etc/passwd:6: id "abc" is not a number`,
		"etc/passwd:7: empty name",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("errors %q, want %q", msgs, want)
	}
	if _, errs := parseAccounts(shadowPath, []byte("root::1:0:::::\nx\n")); len(errs) != 1 {
		t.Errorf("shadow errors %v", errs)
	}
}

func TestClaims(t *testing.T) {
	a := Analyzer()
	tests := []struct {
		path string
		mode fs.FileMode
		want bool
	}{
		{"etc/passwd", 0o644, true},
		{"etc/shadow", fs.ModeSymlink | 0o777, true},
		{"usr/bin/su", fs.ModeSetuid | 0o755, true},
		{"usr/bin/x", 0o755, true}, // executables: a later chmod a-s must replace the fact
		{"usr/share/doc/x", 0o644, false},
		{"usr/bin/link", fs.ModeSymlink | 0o777, false},
		{"app/.git/HEAD", 0o644, true},
		{"app/.git/objects/ab/cd", 0o444, false},
		{"app/.git/config", 0o644, true},
		{"root/.cache/pip/x", 0o644, true},
		{"app/node_modules/p/.cache/x", 0o644, false},
		{"app/node_modules/p/Dockerfile", 0o644, false},
		{"app/Dockerfile", 0o644, true},
		{"root/.npmrc", 0o600, true},
		{"app/node_modules/p/.npmrc", 0o644, true}, // a published token is still a token
		{"home/u/.docker/config.json", 0o600, true},
		{"app/config.json", 0o644, false},
		{"app/keystore.jks", 0o644, true},
		{"app/id_rsa", 0o600, true},
	}
	for _, tt := range tests {
		if got := a.Claims(tt.path, tt.mode, 100); got != tt.want {
			t.Errorf("Claims(%q, %v) = %v, want %v", tt.path, tt.mode, got, tt.want)
		}
	}
	if a.Claims("root/.npmrc", 0o600, maxConfigFileBytes+1) {
		t.Error("claims an oversized .npmrc")
	}
}

func TestOctalMode(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		fs.ModeSetuid | 0o755:                 "4755",
		fs.ModeSetgid | 0o2755&0o777:          "2755",
		fs.ModeSetuid | fs.ModeSetgid | 0o711: "6711",
		fs.ModeSticky | 0o777:                 "1777",
		0o644:                                 "0644",
	} {
		if got := octalMode(m); got != want {
			t.Errorf("octalMode(%v) = %s, want %s", m, got, want)
		}
	}
}

func TestTagOf(t *testing.T) {
	for ref, want := range map[string]string{"alpine": "latest", "alpine:3.10": "3.10", "host:5000/app": "latest",
		"host:5000/app:1.0": "1.0", "scratchtest2:latest": "latest"} {
		if got := tagOf(ref); got != want {
			t.Errorf("tagOf(%q) = %q, want %q", ref, got, want)
		}
	}
}

// The rules see the commands the shell would run, wherever they hide in
// the script, and a step that is not valid shell is a warning.
func TestRulesSeeParsedCommands(t *testing.T) {
	cfg := &inventory.ImageConfig{User: "app", History: []inventory.HistoryEntry{
		{CreatedBy: "RUN /bin/sh -c echo \"$(sudo id -u)\" # buildkit"},
		{CreatedBy: "RUN /bin/sh -c bash <<EOF\napk add curl\nEOF # buildkit"},
		{CreatedBy: "RUN /bin/sh -c X=`apt-get update` # buildkit"},
		{CreatedBy: "/bin/sh -c echo \"unterminated && apt-get dist-upgrade"},
	}}
	res, warns := RunWithWarnings(&inventory.Inventory{Artifact: inventory.Artifact{Config: cfg}}, Options{})
	levels := map[string]string{}
	for _, r := range res {
		levels[r.Code] = r.Level
	}
	for _, code := range []string{"DKL-DI-0001", "DKL-DI-0004", "CIS-DI-0007"} {
		if levels[code] == result.LevelPass {
			t.Errorf("%s passed; results %v", code, levels)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "history step 4") {
		t.Errorf("warnings %q", warns)
	}
}
