package secrets

import (
	"regexp"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/veles"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// Rule describes one detector: its stable id (used in reports and policy
// `secrets:` entries), a title and the severity of a hit.
type Rule struct{ ID, Title, Severity string }

// rule is a Rule with its matcher. A line is only tested with re when one of
// keywords occurs in it (case-insensitively), so keywords must be literal
// parts of every match.
type rule struct {
	Rule
	keywords []string
	re       *regexp.Regexp
	// group is the submatch holding the secret; the text before it in the
	// match is shown as context, the secret itself only redacted. -1 means
	// the match is not secret by itself (a PEM BEGIN line) and is shown as is.
	group int
	// valid, when set, rejects a candidate secret (placeholders, low
	// entropy, a JWT whose header is not JSON ...). cfg reports whether the
	// text is a configuration file (see isConfigFile).
	valid func(secret, match []byte, quoted, cfg bool) bool
	// quote is the submatch holding an optional opening quote, or 0.
	quote int
	// keyBody: the text after the match must start with key material
	// (hasKeyBody), which tells a key from a constant naming its header.
	keyBody bool
	// keyValue rules have no re: they parse "KEY<sep>VALUE" where a
	// keyword ends (parseKeyValue).
	keyValue bool
	// detectors, when set, replace re: osv-scalibr veles detectors run on
	// the line (see veles.go).
	detectors []veles.Detector
}

// Rule ids.
const (
	RulePrivateKey          = "private-key"
	RuleAWSAccessKeyID      = "aws-access-key-id"
	RuleAWSSecretAccessKey  = "aws-secret-access-key"
	RuleAzureStorageKey     = "azure-storage-account-key"
	RuleAzureSharedKey      = "azure-shared-access-key"
	RuleAzureSAS            = "azure-sas-token"
	RuleGCPServiceAccount   = "gcp-service-account"
	RuleGitHubPAT           = "github-pat"
	RuleGitHubFineGrained   = "github-fine-grained-pat"
	RuleGitHubOAuth         = "github-oauth-token"
	RuleGitHubApp           = "github-app-token"
	RuleGitHubRefresh       = "github-refresh-token"
	RuleGitLabPAT           = "gitlab-pat"
	RuleSlackToken          = "slack-token"
	RuleSlackWebhook        = "slack-webhook"
	RuleNPMToken            = "npm-access-token"
	RuleNPMRCAuthToken      = "npmrc-auth-token"
	RulePyPIToken           = "pypi-upload-token"
	RuleJWT                 = "jwt"
	RuleGeneric             = "generic-credential"
	gcpServiceAccountMarker = "service_account"
)

// ruleTable is ordered from the most to the least specific: when two hits
// overlap on a line, the earlier rule wins (a GitHub token assigned to
// GITHUB_TOKEN= is a github-pat, not a generic credential).
var ruleTable = slices.Concat(specificRules, velesRules(), []rule{genericRule})

// specificRules are the formats with a distinctive prefix or structure.
var specificRules = []rule{
	{
		Rule:     Rule{RulePrivateKey, "Private key", vuln.SeverityHigh},
		keywords: []string{"private key"},
		re:       regexp.MustCompile(`-----BEGIN[ A-Z0-9]{0,32} PRIVATE KEY(?: BLOCK)?-----`),
		group:    -1,
		keyBody:  true,
	},
	{
		// Found by the file-level pass (see scanner.gcp); listed for its
		// metadata and so its keyword marks the lines involved.
		Rule:     Rule{RuleGCPServiceAccount, "GCP service account key", vuln.SeverityCritical},
		keywords: []string{gcpServiceAccountMarker, `"private_key"`},
	},
	{
		Rule:     Rule{RuleAWSAccessKeyID, "AWS access key ID", vuln.SeverityCritical},
		keywords: []string{"akia", "asia", "abia", "acca", "a3t"},
		re:       regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b`),
		group:    1,
	},
	{
		Rule: Rule{RuleAWSSecretAccessKey, "AWS secret access key", vuln.SeverityCritical},
		keywords: []string{"secret_access_key", "secretaccesskey", "secret-access-key",
			"aws_secret_key", "aws-secret-key", "awssecretkey"},
		re:    regexp.MustCompile(`(?i:(?:aws)?[_-]?secret[_-]?(?:access[_-]?)?key)["']?\s*(?::=|=>|=|:)\s*(["']?)([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`),
		group: 2, quote: 1,
		valid: func(s, _ []byte, _, _ bool) bool { return entropy(s) >= 3.5 },
	},
	{
		Rule:     Rule{RuleAzureStorageKey, "Azure storage account key", vuln.SeverityCritical},
		keywords: []string{"accountkey"},
		re:       regexp.MustCompile(`(?i:AccountKey)\s*=\s*([A-Za-z0-9+/]{86}==)`),
		group:    1,
	},
	{
		Rule:     Rule{RuleAzureSharedKey, "Azure shared access key", vuln.SeverityHigh},
		keywords: []string{"sharedaccesskey="},
		re:       regexp.MustCompile(`(?i:SharedAccessKey)=([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)`),
		group:    1,
	},
	{
		Rule:     Rule{RuleAzureSAS, "Azure SAS token", vuln.SeverityHigh},
		keywords: []string{"sig="},
		re:       regexp.MustCompile(`\bsv=20\d\d-\d\d-\d\d&\S*?\bsig=((?:[A-Za-z0-9+/]|%2[BbFf]){40,}(?:%3[Dd]|=)?)`),
		group:    1,
	},
	{
		Rule:     Rule{RuleGitHubFineGrained, "GitHub fine-grained personal access token", vuln.SeverityCritical},
		keywords: []string{"github_pat_"},
		re:       regexp.MustCompile(`\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b`),
		group:    1,
	},
	{
		Rule:     Rule{RuleGitHubPAT, "GitHub personal access token", vuln.SeverityCritical},
		keywords: []string{"ghp_"},
		re:       regexp.MustCompile(`\b(ghp_[A-Za-z0-9]{36})\b`),
		group:    1,
	},
	{
		Rule:     Rule{RuleGitHubOAuth, "GitHub OAuth access token", vuln.SeverityCritical},
		keywords: []string{"gho_"},
		re:       regexp.MustCompile(`\b(gho_[A-Za-z0-9]{36})\b`),
		group:    1,
	},
	{
		Rule:     Rule{RuleGitHubApp, "GitHub App token", vuln.SeverityCritical},
		keywords: []string{"ghu_", "ghs_"},
		re:       regexp.MustCompile(`\b(gh[us]_[A-Za-z0-9]{36})\b`),
		group:    1,
	},
	{
		Rule:     Rule{RuleGitHubRefresh, "GitHub refresh token", vuln.SeverityCritical},
		keywords: []string{"ghr_"},
		re:       regexp.MustCompile(`\b(ghr_[A-Za-z0-9]{36,76})\b`),
		group:    1,
	},
	{
		Rule:     Rule{RuleGitLabPAT, "GitLab personal access token", vuln.SeverityCritical},
		keywords: []string{"glpat-"},
		re:       regexp.MustCompile(`\b(glpat-[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]+)*)`),
		group:    1,
	},
	{
		Rule:     Rule{RuleSlackWebhook, "Slack webhook URL", vuln.SeverityMedium},
		keywords: []string{"hooks.slack.com"},
		re:       regexp.MustCompile(`hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_]{8,}/[A-Za-z0-9_]{8,}/[A-Za-z0-9_]{16,})`),
		group:    1,
	},
	{
		Rule:     Rule{RuleSlackToken, "Slack token", vuln.SeverityHigh},
		keywords: []string{"xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxr-", "xoxs-"},
		re:       regexp.MustCompile(`\b(xox[abposr]-[0-9]{6,}-[0-9A-Za-z-]{8,})\b`),
		group:    1,
		valid:    func(s, _ []byte, _, _ bool) bool { return !isPlaceholder(s) },
	},
	{
		Rule:     Rule{RuleNPMToken, "npm access token", vuln.SeverityCritical},
		keywords: []string{"npm_"},
		re:       regexp.MustCompile(`\b(npm_[A-Za-z0-9]{36})\b`),
		group:    1,
	},
	{
		Rule:     Rule{RuleNPMRCAuthToken, "npm registry auth token (.npmrc _authToken)", vuln.SeverityCritical},
		keywords: []string{"_authtoken"},
		re:       regexp.MustCompile(`_authToken\s*=\s*(["']?)([^\s"']{8,})`),
		group:    2, quote: 1,
		valid: func(s, _ []byte, _, _ bool) bool { return !isPlaceholder(s) && entropy(s) >= 3 },
	},
	{
		Rule:     Rule{RulePyPIToken, "PyPI upload token", vuln.SeverityCritical},
		keywords: []string{"pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"},
		re:       regexp.MustCompile(`\b(pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,})`),
		group:    1,
	},
	{
		Rule:     Rule{RuleJWT, "JSON Web Token", vuln.SeverityMedium},
		keywords: []string{"eyj"},
		re:       regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})`),
		group:    1,
		valid:    func(s, _ []byte, _, _ bool) bool { return validJWT(s) },
	},
}

// genericRule comes last: any more specific rule wins over it.
var genericRule = rule{
	// A keyValue rule: parsed at keyword hits, see parseKeyValue.
	Rule:     Rule{RuleGeneric, "Hard-coded credential", vuln.SeverityMedium},
	keywords: genericKeywords(),
	keyValue: true,
	valid:    validGeneric,
}

// genericKeywords are the endings of key names the generic rule looks at.
func genericKeywords() []string {
	kws := []string{"pass", "password", "passwd", "pwd", "secret", "token", "credential", "credentials"}
	for _, base := range []string{"api", "access", "auth", "client", "secret", "encryption", "signing", "master"} {
		for _, sep := range []string{"", "_", "-", "."} {
			kws = append(kws, base+sep+"key")
		}
	}
	return kws
}

// Rules lists every built-in rule, in priority order.
func Rules() []Rule {
	out := make([]Rule, len(ruleTable))
	for i, r := range ruleTable {
		out[i] = r.Rule
	}
	return out
}

// ruleByID returns the rule with that id, or nil.
func ruleByID(id string) *rule {
	for i := range ruleTable {
		if ruleTable[i].ID == id {
			return &ruleTable[i]
		}
	}
	return nil
}

// validGeneric accepts a value assigned to a credential-like key when it
// looks random enough to be a real secret and is not a placeholder. Outside
// configuration files only quoted literals count, with a stricter entropy
// bar, since source code assigns expressions to such names all the time.
func validGeneric(s, _ []byte, quoted, cfg bool) bool {
	if len(s) < 8 || len(s) > 256 || isPlaceholder(s) {
		return false
	}
	min := 3.0
	if !cfg {
		if !quoted {
			return false
		}
		min = 3.5
	}
	if entropy(s) < min || charClasses(s) < 2 || looksLikeIdentifier(s) {
		return false
	}
	// A path, URL or dotted name is a reference to a secret, not one.
	if s[0] == '/' || s[0] == '.' || strings.Contains(string(s), "://") {
		return false
	}
	return true
}
