package secrets

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// fake returns n deterministic pseudo-random characters from alphabet, so
// fixtures have the shape of real tokens without this file containing any
// token-looking literal (which other scanners would flag).
func fake(seed uint64, n int, alphabet string) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64    = alnum + "+/"
	upper2 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	digits = "0123456789"
)

var keyBody = "MIIEowIBAAKCAQEA" + fake(41, 48, b64)

func pem(kind string) string {
	return "-----BEGIN " + kind + "-----\n" + keyBody + "\n" + fake(42, 64, b64) + "\n-----END " + kind + "-----\n"
}

func jwt(header string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(`{"sub":"1234567890","name":"John Doe","iat":1516239022}`)) + "." + fake(7, 43, alnum+"-_")
}

// Fixture secrets: format-valid, clearly fake.
var (
	awsKeyID       = "AKIAIOSFODNN7EXAMPLE" // AWS's documented example
	awsTempKeyID   = "ASIA" + fake(1, 16, upper2)
	awsSecret      = fake(2, 40, b64)
	azureKey       = fake(3, 86, b64) + "=="
	azureShared    = fake(4, 42, b64) + "A="
	azureSig       = fake(5, 40, alnum) + "%2B" + fake(6, 8, alnum) + "%3D"
	ghPAT          = "ghp_" + fake(10, 36, alnum)
	ghOAuth        = "gho_" + fake(11, 36, alnum)
	ghUser         = "ghu_" + fake(12, 36, alnum)
	ghServer       = "ghs_" + fake(13, 36, alnum)
	ghRefresh      = "ghr_" + fake(14, 76, alnum)
	ghFineGrained  = "github_pat_" + fake(15, 22, alnum) + "_" + fake(16, 59, alnum)
	glPAT          = "glpat-" + fake(17, 20, alnum+"-_")
	slackBot       = "xoxb-" + fake(18, 12, digits) + "-" + fake(19, 13, digits) + "-" + fake(20, 24, alnum)
	slackHookPath  = "T" + fake(21, 8, upper2) + "/B" + fake(22, 10, upper2) + "/" + fake(23, 24, alnum)
	npmToken       = "npm_" + fake(24, 36, alnum)
	npmUUID        = fake(25, 8, "0123456789abcdef") + "-" + fake(26, 4, "0123456789abcdef") + "-4" + fake(27, 3, "0123456789abcdef") + "-a" + fake(28, 3, "0123456789abcdef") + "-" + fake(29, 12, "0123456789abcdef")
	pypiToken      = "pypi-AgEIcHlwaS5vcmc" + fake(30, 140, alnum+"-_")
	jwtToken       = jwt(`{"alg":"HS256","typ":"JWT"}`)
	genericSecret  = "q8Zr!x2LmP0v7Tn#"
	genericSource  = "k3Jd8s2mZ0qP9xLw"
	gcpPrivateBody = fake(31, 64, b64)
)

type want struct {
	rule string
	line int
}

func TestRules(t *testing.T) {
	tests := []struct {
		name, path, text string
		want             []want
		secret           string // must not appear in any display
	}{
		{"rsa", "app/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + fake(40, 64, b64) + "\n-----END RSA PRIVATE KEY-----\n",
			[]want{{RulePrivateKey, 1}}, ""},
		{"ec", "k.pem", "x\n" + pem("EC PRIVATE KEY"), []want{{RulePrivateKey, 2}}, ""},
		{"dsa", "k.pem", pem("DSA PRIVATE KEY"), []want{{RulePrivateKey, 1}}, ""},
		{"pkcs8", "k.pem", pem("PRIVATE KEY"), []want{{RulePrivateKey, 1}}, ""},
		{"encrypted", "k.pem", pem("ENCRYPTED PRIVATE KEY"), []want{{RulePrivateKey, 1}}, ""},
		{"legacy encrypted", "k.pem", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123\n\n" + keyBody, []want{{RulePrivateKey, 1}}, ""},
		{"openssh", "root/.ssh/id_ed25519", pem("OPENSSH PRIVATE KEY"), []want{{RulePrivateKey, 1}}, ""},
		{"pgp", "k.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n" + keyBody + "\n", []want{{RulePrivateKey, 1}}, ""},
		{"escaped in json", "k.json", `{"key": "-----BEGIN PRIVATE KEY-----\n` + keyBody + `\n-----END PRIVATE KEY-----\n"}`, []want{{RulePrivateKey, 1}}, keyBody},
		{"concatenated in source", "k.js", "const key = \"-----BEGIN RSA PRIVATE KEY-----\\n\" +\n  \"" + keyBody + "\\n\" +", []want{{RulePrivateKey, 1}}, keyBody},
		{"public key", "k.pem", "-----BEGIN PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\n# put your private key here", nil, ""},
		{"header constant", "ssh.py", "_SK_START = b\"-----BEGIN OPENSSH PRIVATE KEY-----\"\n_SK_END = b\"-----END OPENSSH PRIVATE KEY-----\"\n", nil, ""},
		{"placeholder body", "doc.js", "key: \"-----BEGIN PRIVATE KEY-----\\nXXXX\\nXXXX\\n-----END PRIVATE KEY-----\"", nil, ""},
		{"placeholder body long", "k.pem", "-----BEGIN PRIVATE KEY-----\n" + strings.Repeat("A", 64) + "\n", nil, ""},

		{"aws key id", "app/.env", "region=eu-west-1\naws_access_key_id = " + awsKeyID + "\n", []want{{RuleAWSAccessKeyID, 2}}, awsKeyID},
		{"aws temp key id", "app/main.go", `cfg := aws.Config{ID: "` + awsTempKeyID + `"}`, []want{{RuleAWSAccessKeyID, 1}}, awsTempKeyID},
		{"aws key id too short", "a.txt", "AKIAIOSFODNN7EXAMPL", nil, ""},
		{"aws key id lower", "a.txt", "akiaiosfodnn7example", nil, ""},
		{"aws key id inside word", "a.txt", "X" + awsKeyID + "X", nil, ""},
		{"aws secret", "root/.aws/credentials", "[default]\naws_secret_access_key = " + awsSecret + "\n", []want{{RuleAWSSecretAccessKey, 2}}, awsSecret},
		{"aws secret json", "creds.json", `{"AccessKeyId": "x", "SecretAccessKey": "` + awsSecret + `"}`, []want{{RuleAWSSecretAccessKey, 1}}, awsSecret},
		{"aws secret no context", "a.txt", awsSecret, nil, ""},
		{"aws secret low entropy", "a.env", "AWS_SECRET_ACCESS_KEY=" + strings.Repeat("ab", 20), nil, ""},

		{"azure storage", "appsettings.json", `"Storage": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=` + azureKey + `;EndpointSuffix=core.windows.net"`,
			[]want{{RuleAzureStorageKey, 1}}, azureKey},
		{"azure shared key", "app.config", `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=` + azureShared,
			[]want{{RuleAzureSharedKey, 1}}, azureShared},
		{"azure sas", "deploy.sh", `curl "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&ss=b&srt=co&sp=r&se=2030-01-01T00:00:00Z&spr=https&sig=` + azureSig + `"`,
			[]want{{RuleAzureSAS, 1}}, azureSig},
		{"azure sas without version", "a.txt", "https://x.test/?sig=" + azureSig, nil, ""},

		{"gcp", "app/sa.json", "{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\",\n  \"private_key_id\": \"abc\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n" + gcpPrivateBody + "\\n-----END PRIVATE KEY-----\\n\",\n  \"client_email\": \"x@p.iam.gserviceaccount.com\"\n}\n",
			[]want{{RuleGCPServiceAccount, 5}}, gcpPrivateBody},
		{"gcp one line", "sa.json", `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\n` + gcpPrivateBody + `"}`,
			[]want{{RuleGCPServiceAccount, 1}}, gcpPrivateBody},
		{"not gcp", "key.json", `{"type": "authorized_user", "private_key": "-----BEGIN PRIVATE KEY-----\n` + gcpPrivateBody + `"}`,
			[]want{{RulePrivateKey, 1}}, gcpPrivateBody},

		{"github pat", "app/.env", "GITHUB_TOKEN=" + ghPAT, []want{{RuleGitHubPAT, 1}}, ghPAT},
		{"github oauth", "hosts.yml", "oauth_token: " + ghOAuth, []want{{RuleGitHubOAuth, 1}}, ghOAuth},
		{"github user", "a.txt", ghUser, []want{{RuleGitHubApp, 1}}, ghUser},
		{"github server", "a.txt", ghServer, []want{{RuleGitHubApp, 1}}, ghServer},
		{"github refresh", "a.txt", ghRefresh, []want{{RuleGitHubRefresh, 1}}, ghRefresh},
		{"github fine grained", "a.txt", ghFineGrained, []want{{RuleGitHubFineGrained, 1}}, ghFineGrained},
		{"github too short", "a.txt", "ghp_" + fake(10, 20, alnum), nil, ""},
		{"gitlab", "ci.sh", "git clone https://oauth2:" + glPAT + "@gitlab.com/x/y.git", []want{{RuleGitLabPAT, 1}}, glPAT},

		{"slack token", "bot.py", `client = WebClient(token="` + slackBot + `")`, []want{{RuleSlackToken, 1}}, slackBot},
		{"slack webhook", "notify.sh", "curl -X POST https://hooks.slack.com/services/" + slackHookPath, []want{{RuleSlackWebhook, 1}}, slackHookPath},

		{"npm token", "a.js", `const t = "` + npmToken + `"`, []want{{RuleNPMToken, 1}}, npmToken},
		{"npmrc npm token", "root/.npmrc", "//registry.npmjs.org/:_authToken=" + npmToken, []want{{RuleNPMToken, 1}}, npmToken},
		{"npmrc legacy token", "root/.npmrc", "registry=https://r.example/\n//r.example/:_authToken=" + npmUUID, []want{{RuleNPMRCAuthToken, 2}}, npmUUID},
		{"npmrc variable", "root/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}", nil, ""},

		{"pypi", "root/.pypirc", "[pypi]\nusername = __token__\npassword = " + pypiToken, []want{{RulePyPIToken, 3}}, pypiToken},

		{"jwt", "a.sh", "curl -H 'Authorization: Bearer " + jwtToken + "'", []want{{RuleJWT, 1}}, jwtToken},
		{"jwt bad header", "a.txt", "eyJ" + fake(50, 20, alnum) + ".eyJ" + fake(51, 20, alnum) + "." + fake(52, 20, alnum), nil, ""},

		{"generic env", "app/.env", "DEBUG=1\nDB_PASSWORD=" + genericSecret + "\n", []want{{RuleGeneric, 2}}, genericSecret},
		{"generic yaml", "config/app.yaml", "db:\n  password: \"" + genericSecret + "\"\n", []want{{RuleGeneric, 2}}, genericSecret},
		{"generic source quoted", "app/settings.py", "SECRET_KEY = '" + genericSource + "'\n", []want{{RuleGeneric, 1}}, genericSource},
		{"generic crlf", "app/.env", "A=1\r\nAPI_KEY=" + genericSecret + "\r\n", []want{{RuleGeneric, 2}}, genericSecret},
		{"generic source unquoted", "app/settings.py", "password = " + genericSource + "\n", nil, ""},
		{"generic source expression", "app/db.py", "password = get_password(user)\ntoken = request.headers.get('X-Token')\n", nil, ""},
		{"generic placeholders", "app/.env", "PASSWORD=changeme\nDB_PASSWORD=${DB_PASSWORD}\napi_key: \"<your-api-key>\"\nsecret: xxxxxxxxxxxx\n" +
			"password: '{{ .Values.password }}'\nPASSWORD=%(pw)s\nTOKEN=" + strings.Repeat("a", 20) + "\n", nil, ""},
		{"generic low entropy", "app/.env", "PASSWORD=abababab1\n", nil, ""},
		{"generic path", "etc/app.conf", "password_file = /run/secrets/db\nsecret = /run/secrets/x9Yz2\n", nil, ""},
		{"generic sentence", "etc/openssl.cnf", "challengePassword\t\t= A challenge password\n", nil, ""},
		{"generic identifiers", "usr/lib/systemd/system/x.service", "LoadCredential=passwd.hashed-password.root\n" +
			`"output_token": "StreamDescription.Shards[-1].ShardId",` + "\nservice_account_token = 'V1ServiceAccountTokenProjection'\n", nil, ""},
		{"generic comparison", "a.py", `if token == "` + genericSource + `":`, nil, ""},
		{"generic unterminated quote", "a.yaml", `password: "` + genericSecret + ` is here"`, nil, ""},
	}
	s := defaultScanner()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := s.scan([]byte(tt.text), isConfigFile(tt.path))
			var got []want
			for _, h := range hits {
				got = append(got, want{h.rule.ID, h.line})
				if tt.secret != "" && strings.Contains(h.display, tt.secret) {
					t.Errorf("display %q contains the secret", h.display)
				}
				if strings.Contains(h.display, "\n") {
					t.Errorf("display %q has a newline", h.display)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("hits = %v, want %v (displays: %v)", got, tt.want, displays(hits))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("hit %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func displays(hits []hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.rule.ID+" "+h.display)
	}
	return out
}

func TestRulesTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if r.ID == "" || r.Title == "" || seen[r.ID] {
			t.Errorf("bad or duplicate rule %+v", r)
		}
		seen[r.ID] = true
		switch r.Severity {
		case "CRITICAL", "HIGH", "MEDIUM", "LOW":
		default:
			t.Errorf("%s: severity %q", r.ID, r.Severity)
		}
	}
	for _, r := range ruleTable {
		if len(r.keywords) == 0 {
			t.Errorf("%s: no keywords", r.ID)
		}
		for _, kw := range r.keywords {
			if kw != strings.ToLower(kw) {
				t.Errorf("%s: keyword %q is not lower case", r.ID, kw)
			}
		}
	}
}

func TestDisplay(t *testing.T) {
	s := defaultScanner()
	for _, tt := range []struct{ text, path, want string }{
		{"aws_access_key_id = " + awsKeyID, "a.ini", "AKIA****************"},
		{"DB_PASSWORD=" + genericSecret, ".env", "DB_PASSWORD=q8Zr************"},
		{pem("RSA PRIVATE KEY"), "k", "-----BEGIN RSA PRIVATE KEY-----"},
		{"x=" + ghPAT, "a.txt", "ghp_" + strings.Repeat("*", 32)},
	} {
		hits := s.scan([]byte(tt.text), isConfigFile(tt.path))
		if len(hits) != 1 || hits[0].display != tt.want {
			t.Errorf("%q: displays %v, want %q", tt.text, displays(hits), tt.want)
		}
	}
}
