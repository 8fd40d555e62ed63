package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
)

func TestClaims(t *testing.T) {
	a := Analyzer(Options{})
	for _, tt := range []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"app/.env", 0o644, 100, true},
		{"root/.ssh/id_rsa", 0o600, 1700, true},
		{"etc/ssl/private/server.key", 0o600, 1700, true},
		{"usr/local/bin/entrypoint.sh", 0o755, 900, true},
		{"app/node_modules/left-pad/index.js", 0o644, 900, true},
		{"app/tests/fixtures/key.pem", 0o644, 900, true}, // the image author's own tests are theirs to fix
		{"app/.env", 0o644, 0, false},
		{"app/.env", 0o644, DefaultMaxFileBytes + 1, false},
		{"app/.env", fs.ModeSymlink | 0o777, 10, false},
		{"app/.env", fs.ModeDir | 0o755, 10, false},
		{"app/logo.PNG", 0o644, 100, false},
		{"usr/share/fonts/x.woff2", 0o644, 100, false},
		{"app/dist.tar.gz", 0o644, 100, false},
		{"usr/lib/libssl.so.1.1", 0o755, 100, false},
		{"app/__pycache__/x.cpython-312.pyc", 0o644, 100, false},
		{"app/static/app.js.map", 0o644, 100, false},
		{"usr/share/doc/openssl/README", 0o644, 100, false},
		{"usr/share/man/man1/ls.1", 0o644, 100, false},
		{"lib/apk/db/installed", 0o644, 100, false},
		{"var/lib/dpkg/status", 0o644, 100, false},
		{"usr/local/go/src/net/http/internal/testcert/testcert.go", 0o644, 100, false},
		{"app/node_modules/node-forge/tests/unit/rsa.js", 0o644, 100, false},
		{"app/node_modules/ssh2/test/fixtures/id_rsa", 0o644, 100, false},
		{"app/node_modules/x/README.md", 0o644, 100, false},
		{"usr/lib/python3.12/test/certdata/keycert.pem", 0o644, 100, false},
		{"usr/lib/python3.12/site-packages/pkg/x_test.py", 0o644, 100, false},
		{"usr/lib/python3.12/site-packages/pkg/settings.py", 0o644, 100, true},
		{"root/go/pkg/mod/github.com/x/y@v1/testdata/key.pem", 0o644, 100, false},
		{"root/.npm/_cacache/index-v5/00/ab", 0o644, 100, false},
	} {
		if got := a.Claims(tt.path, tt.mode, tt.size); got != tt.want {
			t.Errorf("Claims(%q, %v, %d) = %v, want %v", tt.path, tt.mode, tt.size, got, tt.want)
		}
	}
	small := Analyzer(Options{MaxFileBytes: 10})
	if small.Claims("app/.env", 0o644, 11) {
		t.Error("MaxFileBytes not honoured")
	}
}

func analyze(t *testing.T, a inventory.Analyzer, path string, content []byte) []inventory.FileFact {
	t.Helper()
	var out inventory.LayerResult
	f := inventory.NewFile(path, 0o644, int64(len(content)), bytes.NewReader(content), t.TempDir(), 0)
	defer f.Close()
	if err := a.Analyze(context.Background(), f, &out); err != nil {
		t.Fatal(err)
	}
	return out.Facts
}

func TestAnalyze(t *testing.T) {
	a := Analyzer(Options{})
	text := "# deploy settings\nGITHUB_TOKEN=" + ghPAT + "\n"
	facts := analyze(t, a, "app/.env", []byte(text))
	want := inventory.FileFact{Kind: "secret", Path: "app/.env", Rule: RuleGitHubPAT, Line: 2,
		Detail: "GitHub personal access token: ghp_" + strings.Repeat("*", 32)}
	if len(facts) != 1 || facts[0] != want {
		t.Fatalf("facts = %+v, want %+v", facts, want)
	}

	// Binary: a NUL anywhere means the file is skipped.
	bin := []byte(text + "\x00\x01\x02")
	if facts := analyze(t, a, "app/blob", bin); len(facts) != 0 {
		t.Errorf("binary file: %+v", facts)
	}
	// Only the first MaxFileBytes are read when a file is larger than the
	// limit (Claims normally prevents this).
	small := Analyzer(Options{MaxFileBytes: 64})
	long := []byte(strings.Repeat("x", 100) + "\nGITHUB_TOKEN=" + ghPAT + "\n")
	if facts := analyze(t, small, "app/.env", long); len(facts) != 0 {
		t.Errorf("over the limit: %+v", facts)
	}
	// Cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Analyze(ctx, inventory.NewFileBytes("a", 0o644, []byte(text)), &inventory.LayerResult{}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestAnalyzeCapsHits(t *testing.T) {
	var b strings.Builder
	for range 500 {
		b.WriteString(awsKeyID + " " + awsKeyID + "\n")
	}
	facts := analyze(t, Analyzer(Options{}), "a.txt", []byte(b.String()))
	if len(facts) != maxHitsPerFile {
		t.Errorf("%d facts, want %d", len(facts), maxHitsPerFile)
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"AKIAIOSFODNN7EXAMPLE", "AKIA****************"},
		{"", ""},
		{"abc", "***"},
		{"abcdefgh", "ab******"},
		{"ghp_" + strings.Repeat("a", 36), "ghp_" + strings.Repeat("*", 32)},
		{"github_pat_" + strings.Repeat("a", 82), "github_pat_" + strings.Repeat("*", 32)},
		{"xoxb-12", "*******"}, // the prefix is not shown when it is most of the value
		{"héllo wörld ünïcode", "hél" + strings.Repeat("*", 19)}, // never half a rune
	} {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScanConfig(t *testing.T) {
	cfg := &inventory.ImageConfig{
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"GITHUB_TOKEN=" + ghPAT,
			"DB_PASSWORD=" + genericSecret,
			"DB_PASSWORD_FILE=/run/secrets/db",
			"API_KEY=${API_KEY}",
		},
		Labels: map[string]string{
			"org.opencontainers.image.source": "https://github.com/x/y",
			"deploy.webhook":                  "https://hooks.slack.com/services/" + slackHookPath,
		},
		History: []inventory.HistoryEntry{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "},
			{CreatedBy: "/bin/sh -c #(nop)  ENV GITHUB_TOKEN=" + ghPAT, EmptyLayer: true},
			{CreatedBy: "|1 NPM_TOKEN=" + npmToken + " /bin/sh -c npm ci"},
			{CreatedBy: "|1 NPM_TOKEN=" + npmToken + " /bin/sh -c npm run build"},
			{CreatedBy: "RUN /bin/sh -c echo 'aws_secret_access_key = " + awsSecret + "' > /root/.aws/credentials # buildkit"},
		},
	}
	got := ScanConfig(cfg)
	type key struct {
		rule, path string
		line       int
		match      string
	}
	var keys []key
	for _, s := range got {
		keys = append(keys, key{s.Rule, s.Path, s.Line, s.Match})
		if s.Title == "" || s.Severity == "" || s.Layer != nil {
			t.Errorf("incomplete: %+v", s)
		}
	}
	want := []key{
		{RuleGitHubPAT, PathEnv, 2, "GITHUB_TOKEN=ghp_" + strings.Repeat("*", 32)},
		{RuleGeneric, PathEnv, 3, "DB_PASSWORD=q8Zr************"},
		{RuleSlackWebhook, PathLabels, 0, "deploy.webhook=hooks.slack.com/services/" + Redact(slackHookPath)},
		{RuleNPMToken, PathHistory, 3, "npm_" + strings.Repeat("*", 32)},
		{RuleAWSSecretAccessKey, PathHistory, 5, "aws_secret_access_key = " + Redact(awsSecret)},
	}
	if len(keys) != len(want) {
		t.Fatalf("got %d secrets:\n%+v\nwant\n%+v", len(keys), keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("secret %d = %+v, want %+v", i, keys[i], want[i])
		}
	}
	if ScanConfig(nil) != nil {
		t.Error("nil config")
	}
	assertNoClearText(t, got, ghPAT, genericSecret, slackHookPath, npmToken, awsSecret)
}

func TestFromFacts(t *testing.T) {
	layer := &inventory.LayerRef{Index: 1, DiffID: "sha256:abc"}
	facts := []inventory.FileFact{
		{Kind: "setuid", Path: "usr/bin/su"},
		{Kind: "secret", Path: "app/.env", Rule: RuleGitHubPAT, Line: 2, Detail: "GitHub personal access token: ghp_****", Layer: layer},
		{Kind: "secret", Path: "app/x", Rule: "future-rule", Line: 1, Detail: "Future token: fut_****"},
	}
	got := FromFacts(facts)
	want := []result.Secret{
		{Rule: RuleGitHubPAT, Title: "GitHub personal access token", Severity: "CRITICAL", Path: "app/.env", Line: 2, Match: "ghp_****", Layer: layer},
		{Rule: "future-rule", Title: "Future token", Severity: "UNKNOWN", Path: "app/x", Line: 1, Match: "fut_****"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("secret %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestNoClearText runs every fixture through the analyzer, FromFacts and
// a whole report, and checks no secret survives in the JSON.
func TestNoClearText(t *testing.T) {
	secrets := []string{awsKeyID, awsTempKeyID, awsSecret, azureKey, azureShared, azureSig, ghPAT, ghOAuth, ghUser,
		ghServer, ghRefresh, ghFineGrained, glPAT, slackBot, slackHookPath, npmToken, npmUUID, pypiToken, jwtToken,
		genericSecret, gcpPrivateBody}
	var text strings.Builder
	for i, s := range secrets {
		// Each behind a key that triggers the generic rule as well.
		text.WriteString(string(rune('a'+i)) + "_secret_token = \"" + s + "\"\n")
	}
	text.WriteString(`{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\n` + gcpPrivateBody + `"}` + "\n")
	text.WriteString("//r.example/:_authToken=" + npmUUID + "\nsig=" + azureSig + "&sv=2020-01-01&sig=" + azureSig + "\n")
	facts := analyze(t, Analyzer(Options{}), "app/config.yaml", []byte(text.String()))
	for _, f := range facts {
		t.Log(f.Line, f.Rule, f.Detail)
	}
	if len(facts) < len(secrets) {
		t.Errorf("only %d facts for %d secrets", len(facts), len(secrets))
	}
	r := result.Report{Secrets: append(FromFacts(facts), ScanConfig(&inventory.ImageConfig{Env: strings.Split(text.String(), "\n")})...), CreatedAt: time.Unix(0, 0)}
	assertNoClearText(t, r, secrets...)
	b, _ := json.Marshal(facts)
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("facts contain %q", s)
		}
	}
}

func assertNoClearText(t *testing.T, v any, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		for _, p := range knownPrefixes {
			s = strings.TrimPrefix(s, p) // public, fixed parts
		}
		// Any 12 consecutive characters of a secret are too many.
		for i := 0; i+12 <= len(s); i++ {
			if bytes.Contains(b, []byte(s[i:i+12])) {
				t.Errorf("output contains %q (from a secret)", s[i:i+12])
				break
			}
		}
	}
}

// A different size limit must not reuse layer results cached with another.
func TestNameCarriesSizeLimit(t *testing.T) {
	if got := Analyzer(Options{}).Name(); got != "secrets" {
		t.Errorf("default name = %q", got)
	}
	if a, b := Analyzer(Options{MaxFileBytes: 1 << 10}).Name(), Analyzer(Options{MaxFileBytes: 2 << 10}).Name(); a == b || a == "secrets" {
		t.Errorf("names %q and %q must differ from each other and the default", a, b)
	}
}
