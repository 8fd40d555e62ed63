package imagetest

import (
	"crypto/sha256"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
)

// PlantedSecret is a credential SecretConfigImage put in one config field.
// Clear is the text that must never appear in an output.
type PlantedSecret struct {
	Field string // "Env", "Labels", "Cmd", ... "History.comment"
	Clear string
}

// FakeToken returns a synthetic token of a documented format: prefix
// followed by n characters of alphabet derived from seed. Tokens are built
// at run time, so the repository holds no token literal for secret
// scanners (GitHub push protection, ...) to trip on; none is a real
// credential.
func FakeToken(prefix, alphabet string, n int, seed string) string {
	var b strings.Builder
	b.WriteString(prefix)
	h := sha256.Sum256([]byte(seed))
	for i := range n {
		if i%len(h) == 0 && i > 0 {
			h = sha256.Sum256(h[:])
		}
		b.WriteByte(alphabet[int(h[i%len(h)])%len(alphabet)])
	}
	return b.String()
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// SecretConfigImage builds a small image (an Alpine os-release, one apk
// package) whose config holds a different synthetic credential in every
// field an output can print: Env (a token, a private key, and a value
// flagged only by its variable name), Labels, Cmd, Entrypoint,
// Healthcheck, OnBuild, and the history's created_by (a RUN step with a
// build argument) and comment. It returns the image and what was planted.
func SecretConfigImage(t testing.TB) (v1.Image, []PlantedSecret) {
	t.Helper()
	tok := func(field, prefix, alphabet string, n int) string {
		return FakeToken(prefix, alphabet, n, "vigil-test-"+field)
	}
	keyBody := FakeToken("", b64, 64, "vigil-test-key")
	planted := []PlantedSecret{
		{"Env", tok("Env", "ghp_", alnum, 36)},
		{"Env.private-key", keyBody},
		{"Env.by-name", "correct-horse-battery"},
		{"Labels", tok("Labels", "glpat-", alnum, 20)},
		{"Cmd", tok("Cmd", "AKIA", base32, 16)},
		{"Entrypoint", tok("Entrypoint", "npm_", alnum, 36)},
		{"Healthcheck", tok("Healthcheck", "ghp_", alnum, 36)},
		{"OnBuild", tok("OnBuild", "xoxb-2719384650-", alnum, 24)},
		{"History.created_by", tok("History", "gho_", alnum, 36)},
		{"History.comment", tok("Comment", "glpat-", alnum, 24)},
	}
	get := func(field string) string {
		for _, p := range planted {
			if p.Field == field {
				return p.Clear
			}
		}
		panic(field)
	}
	pem := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + keyBody + "\n-----END OPENSSH PRIVATE KEY-----"
	img := Build(t, empty.Image, func(c *v1.Config) {
		c.Env = []string{"PATH=/usr/bin:/bin", "GITHUB_TOKEN=" + get("Env"), "SSH_KEY=" + pem, "DB_PASSWORD=" + get("Env.by-name")}
		c.Labels = map[string]string{"org.opencontainers.image.title": "app", "deploy.token": get("Labels")}
		c.Cmd = []string{"--aws-key", get("Cmd")}
		c.Entrypoint = []string{"/bin/sh", "-c", "echo //registry.npmjs.org/:_authToken=" + get("Entrypoint") + " > ~/.npmrc && exec app"}
		c.Healthcheck = &v1.HealthConfig{Test: []string{"CMD-SHELL", "curl -fsS -H 'Authorization: token " + get("Healthcheck") + "' http://localhost/"}}
		c.OnBuild = []string{"RUN curl -H 'Authorization: Bearer " + get("OnBuild") + "' https://slack.com/api/x"}
		c.User = "app"
	},
		Step{CreatedBy: "ADD file:0123abcd in / ", Entries: []Entry{
			{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.10.9\n"},
			{Name: "lib/apk/db/installed", Body: "P:musl\nV:1.1.22-r3\nA:x86_64\no:musl\n\n"},
		}},
		Step{CreatedBy: "|1 GH_TOKEN=" + get("History.created_by") + " /bin/sh -c git clone https://github.com/acme/app /src", Entries: []Entry{
			{Name: "src/README", Body: "app\n"},
		}},
		Step{CreatedBy: "/bin/sh -c #(nop)  CMD [\"--aws-key\" \"" + get("Cmd") + "\"]"},
	)
	img = EditConfigFile(t, img, func(cf *v1.ConfigFile) {
		cf.History[1].Comment = "built with token " + get("History.comment")
	})
	return img, planted
}
