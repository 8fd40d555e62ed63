package secrets

import (
	"bytes"
	"reflect"
	"regexp"

	"github.com/google/osv-scalibr/veles"
	"github.com/google/osv-scalibr/veles/secrets/anthropicapikey"
	"github.com/google/osv-scalibr/veles/secrets/circleci"
	"github.com/google/osv-scalibr/veles/secrets/denopat"
	"github.com/google/osv-scalibr/veles/secrets/digitaloceanapikey"
	"github.com/google/osv-scalibr/veles/secrets/discordbottoken"
	"github.com/google/osv-scalibr/veles/secrets/dockerhubpat"
	"github.com/google/osv-scalibr/veles/secrets/gcpapikey"
	"github.com/google/osv-scalibr/veles/secrets/grokxaiapikey"
	"github.com/google/osv-scalibr/veles/secrets/hashicorpvault"
	"github.com/google/osv-scalibr/veles/secrets/herokuplatformkey"
	"github.com/google/osv-scalibr/veles/secrets/huggingfaceapikey"
	"github.com/google/osv-scalibr/veles/secrets/openai"
	"github.com/google/osv-scalibr/veles/secrets/openrouter"
	"github.com/google/osv-scalibr/veles/secrets/perplexityapikey"
	"github.com/google/osv-scalibr/veles/secrets/postmanapikey"
	"github.com/google/osv-scalibr/veles/secrets/rubygemsapikey"
	"github.com/google/osv-scalibr/veles/secrets/sendgrid"
	"github.com/google/osv-scalibr/veles/secrets/slacktoken"
	"github.com/google/osv-scalibr/veles/secrets/squareapikey"
	"github.com/google/osv-scalibr/veles/secrets/stripeapikeys"
	"github.com/google/osv-scalibr/veles/secrets/telegrambotapitoken"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// Token formats recognised by osv-scalibr's veles detectors, the secret
// scanner of OSV-SCALIBR, used as they are: each rule hands the lines that
// hold one of its keywords to the detectors' Detect, so the formats stay
// those veles maintains while the single keyword pass still decides which
// lines any detector sees (a detector given whole files would be one more
// regular-expression pass over every byte). The keywords are literal parts
// of every token the detectors match. Formats the rules in rules.go
// already cover (AWS, GitHub, GitLab, Slack bot/user tokens, npm, PyPI,
// private keys, JWT, Azure storage) keep their own rules, which carry
// placeholder and entropy filters tuned on real images.

// Rule ids of the veles-backed rules and of Twilio, which veles lacks.
const (
	RuleGCPAPIKey       = "gcp-api-key"
	RuleGCPOAuthSecret  = "gcp-oauth2-client-secret"
	RuleStripe          = "stripe-api-key"
	RuleSendGrid        = "sendgrid-api-key"
	RuleOpenAI          = "openai-api-key"
	RuleAnthropic       = "anthropic-api-key"
	RuleHuggingFace     = "huggingface-token"
	RuleDockerHubPAT    = "dockerhub-pat"
	RuleSlackAppToken   = "slack-app-token"
	RuleDigitalOcean    = "digitalocean-token"
	RuleRubyGems        = "rubygems-api-key"
	RulePerplexity      = "perplexity-api-key"
	RuleXAI             = "xai-api-key"
	RuleOpenRouter      = "openrouter-api-key"
	RulePostman         = "postman-api-key"
	RuleHeroku          = "heroku-api-key"
	RuleSquare          = "square-token"
	RuleCircleCI        = "circleci-token"
	RuleDeno            = "deno-token"
	RuleVault           = "hashicorp-vault-token"
	RuleTelegram        = "telegram-bot-token"
	RuleDiscord         = "discord-bot-token"
	RuleTwilioAPIKey    = "twilio-api-key"
	RuleTwilioAuthToken = "twilio-auth-token"
)

// velesRules are the rules backed by veles detectors, plus Twilio.
func velesRules() []rule {
	d := func(id, title, severity string, keywords []string, ds ...veles.Detector) rule {
		return rule{Rule: Rule{id, title, severity}, keywords: keywords, detectors: ds, group: 1}
	}
	crit, high := vuln.SeverityCritical, vuln.SeverityHigh
	return []rule{
		d(RuleGCPAPIKey, "Google Cloud API key", high, []string{"aiza"}, gcpapikey.NewDetector()),
		// veles reports a client secret only paired with its client ID
		// nearby, rarely on the same line: its secret format, on its own.
		{Rule: Rule{RuleGCPOAuthSecret, "Google OAuth 2.0 client secret", high}, keywords: []string{"gocspx-"},
			re: regexp.MustCompile(`\b(GOCSPX-[a-zA-Z0-9_-]{28})`), group: 1},
		d(RuleStripe, "Stripe API key", crit, []string{"sk_live_", "rk_live_", "whsec_"},
			stripeapikeys.NewSecretKeyDetector(), stripeapikeys.NewRestrictedKeyDetector(), stripeapikeys.NewWebhookSecretDetector()),
		d(RuleSendGrid, "SendGrid API key", crit, []string{"sg."}, sendgrid.NewDetector()),
		d(RuleOpenAI, "OpenAI API key", crit, []string{"t3blbkfj"}, openai.NewDetector()),
		d(RuleAnthropic, "Anthropic API key", crit, []string{"sk-ant-"}, anthropicapikey.NewDetector()),
		d(RuleHuggingFace, "Hugging Face access token", high, []string{"hf_"}, huggingfaceapikey.NewDetector()),
		d(RuleDockerHubPAT, "Docker Hub personal access token", crit, []string{"dckr_pat_"}, dockerhubpat.NewDetector()),
		d(RuleSlackAppToken, "Slack app token", high, []string{"xapp-", "xoxe"},
			slacktoken.NewAppLevelTokenDetector(), slacktoken.NewAppConfigAccessTokenDetector(), slacktoken.NewAppConfigRefreshTokenDetector()),
		d(RuleDigitalOcean, "DigitalOcean token", crit, []string{"dop_v1_"}, digitaloceanapikey.NewDetector()),
		d(RuleRubyGems, "RubyGems API key", crit, []string{"rubygems_"}, rubygemsapikey.NewDetector()),
		d(RulePerplexity, "Perplexity API key", high, []string{"pplx-"}, perplexityapikey.NewDetector()),
		d(RuleXAI, "xAI (Grok) API key", high, []string{"xai-"}, grokxaiapikey.NewAPIKeyDetector(), grokxaiapikey.NewManagementKeyDetector()),
		d(RuleOpenRouter, "OpenRouter API key", high, []string{"sk-or-v"}, openrouter.NewDetector()),
		d(RulePostman, "Postman API key", high, []string{"pmak-", "pmat-"}, postmanapikey.NewAPIKeyDetector(), postmanapikey.NewCollectionTokenDetector()),
		d(RuleHeroku, "Heroku platform API key", crit, []string{"hrku-"}, herokuplatformkey.NewSecretKeyDetector()),
		d(RuleSquare, "Square access token or secret", crit, []string{"eaaa", "sq0csp-"},
			squareapikey.NewPersonalAccessTokenDetector(), squareapikey.NewOAuthApplicationSecretDetector()),
		d(RuleCircleCI, "CircleCI token", crit, []string{"ccipat_", "cciprj_"}, circleci.NewPersonalAccessTokenDetector(), circleci.NewProjectTokenDetector()),
		d(RuleDeno, "Deno Deploy token", high, []string{"ddp_", "ddo_"}, denopat.NewUserTokenDetector(), denopat.NewOrgTokenDetector()),
		d(RuleVault, "HashiCorp Vault token", crit, []string{"hvs.", "hvb."}, hashicorpvault.NewTokenDetector()),
		d(RuleTelegram, "Telegram bot token", high, []string{"telegram", "tgram"}, telegrambotapitoken.NewDetector()),
		d(RuleDiscord, "Discord bot token", high, []string{"discord"}, discordbottoken.NewDetector()),
		// Twilio (no veles detector): an API key SID is "SK" and 32 hex
		// digits, too short a prefix to be a keyword of its own, so the
		// line must name Twilio; the auth token is 32 hex digits assigned
		// to a Twilio auth-token name.
		{Rule: Rule{RuleTwilioAPIKey, "Twilio API key", crit}, keywords: []string{"twilio"},
			re: regexp.MustCompile(`\b(SK[0-9a-fA-F]{32})\b`), group: 1},
		{Rule: Rule{RuleTwilioAuthToken, "Twilio auth token", crit}, keywords: []string{"twilio"},
			re: regexp.MustCompile(`(?i:twilio[a-z_.-]{0,16}auth[_.-]?token)["']?\s*(?::=|=>|=|:)\s*["']?([0-9a-f]{32})\b`), group: 1},
	}
}

// detectorCandidates appends the secrets r's detectors find in line.
func (r *rule) detectorCandidates(line []byte, out []span) []span {
	for _, d := range r.detectors {
		found, positions := d.Detect(line)
		for i, s := range found {
			text := velesSecretText(s)
			if text == "" {
				continue
			}
			from := 0
			if i < len(positions) && positions[i] >= 0 && positions[i] <= len(line) {
				from = positions[i]
			}
			at := bytes.Index(line[from:], []byte(text))
			if at < 0 {
				if from, at = 0, bytes.Index(line, []byte(text)); at < 0 {
					continue // a decoded (base64) token: not in the text as is
				}
			}
			start := from + at
			out = append(out, span{start: start, end: start + len(text), secretStart: start, secretEnd: start + len(text)})
		}
	}
	return out
}

// secretFields are the fields of veles secret types that hold the secret,
// in preference order (an OAuth client's ID is public, its Secret is not).
var secretFields = []string{"Key", "Token", "Pat", "Secret", "ClientSecret"}

// velesSecretText returns the secret text of a veles.Secret. Every veles
// type is a small struct whose secret is one string field; reading it by
// name keeps this file from listing a type switch case per format.
func velesSecretText(s veles.Secret) string {
	v := reflect.ValueOf(s)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	for _, name := range secretFields {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			return f.String()
		}
	}
	return ""
}
