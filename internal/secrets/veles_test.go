package secrets

import (
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
)

const (
	alnumChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hex         = "0123456789abcdef"
	letterChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// Synthetic tokens in the formats their vendors (and veles' own tests)
// document, built at run time: none is a real credential, and the file
// holds no token literal.
func velesExamples() []struct{ rule, line, secret string } {
	f := func(prefix, alphabet string, n int) string {
		return imagetest.FakeToken(prefix, alphabet, n, "veles-"+prefix)
	}
	type ex = struct{ rule, line, secret string }
	var out []ex
	add := func(rule, before, secret string) { out = append(out, ex{rule, before + secret, secret}) }
	add(RuleGCPAPIKey, "GOOGLE_API_KEY=", f("AIzaSyA", alnumChars, 32))
	add(RuleGCPOAuthSecret, `"client_secret": "`, f("GOCSPX-", alnumChars, 28))
	add(RuleStripe, "STRIPE_KEY=", f("sk_live_", alnumChars, 24))
	add(RuleStripe, "stripe.api_key = ", f("rk_live_", alnumChars, 24))
	add(RuleStripe, "STRIPE_WEBHOOK_SECRET=", f("whsec_", alnumChars, 32))
	add(RuleSendGrid, "SENDGRID_API_KEY=", f("SG.", alnumChars, 22)+f(".", alnumChars, 43))
	add(RuleOpenAI, "OPENAI_API_KEY=", f("sk-proj-", alnumChars, 20)+f("T3BlbkFJ", alnumChars, 20))
	add(RuleAnthropic, "ANTHROPIC_API_KEY=", f("sk-ant-api03-", alnumChars, 93)+"AA")
	add(RuleHuggingFace, "HF_TOKEN=", f("hf_", letterChars, 34))
	add(RuleDockerHubPAT, "docker login -u acme -p ", f("dckr_pat_", alnumChars, 27))
	add(RuleSlackAppToken, "SLACK_APP_TOKEN=", f("xapp-1-A0", "0123456789", 9)+"-1234567890123-"+f("", hex, 64))
	add(RuleDigitalOcean, "DIGITALOCEAN_TOKEN=", f("dop_v1_", hex, 64))
	add(RuleRubyGems, "GEM_HOST_API_KEY=", f("rubygems_", hex, 48))
	add(RulePerplexity, "PPLX_KEY=", f("pplx-", alnumChars, 48))
	add(RuleXAI, "XAI_API_KEY=", f("xai-", alnumChars, 80))
	add(RuleOpenRouter, "OPENROUTER_API_KEY=", f("sk-or-v1-", hex, 64))
	add(RulePostman, "POSTMAN_API_KEY=", f("PMAK-", hex, 24)+f("-", hex, 34))
	add(RuleHeroku, "HEROKU_API_KEY=", f("HRKU-", alnumChars, 60))
	add(RuleSquare, "SQUARE_ACCESS_TOKEN=", f("EAAA", alnumChars, 60))
	add(RuleCircleCI, "CIRCLE_TOKEN=", f("CCIPAT_", alnumChars, 22)+f("_", hex, 40))
	add(RuleDeno, "DENO_DEPLOY_TOKEN=", f("ddp_", alnumChars, 36))
	add(RuleVault, "VAULT_TOKEN=", f("hvs.", alnumChars, 90))
	add(RuleTelegram, "TELEGRAM_BOT_TOKEN=", "7123456789:"+f("AA", alnumChars, 33))
	add(RuleDiscord, "DISCORD_BOT_TOKEN=", f("MT", alnumChars, 22)+f(".", alnumChars, 6)+f(".", alnumChars, 27))
	add(RuleTwilioAPIKey, "TWILIO_API_KEY=", f("SK", hex, 32))
	add(RuleTwilioAuthToken, "TWILIO_AUTH_TOKEN=", f("", hex, 32))
	return out
}

func TestVelesFormats(t *testing.T) {
	for _, ex := range velesExamples() {
		hits := defaultScanner().scan([]byte("# config\n"+ex.line+"\n"), true)
		found := false
		for _, h := range hits {
			if h.rule.ID == ex.rule && h.secret == ex.secret {
				found = true
			}
			if strings.Contains(h.display, ex.secret) {
				t.Errorf("%s: display %q shows the secret", ex.rule, h.display)
			}
		}
		if !found {
			var got []string
			for _, h := range hits {
				got = append(got, h.rule.ID+":"+h.secret)
			}
			t.Errorf("%s not found in %q; hits %q", ex.rule, ex.line, got)
		}
		if red, _ := RedactText(ex.line); strings.Contains(red, ex.secret) {
			t.Errorf("%s: RedactText leaves it: %q", ex.rule, red)
		}
	}
}

// Near misses: the keyword is there, the format is not.
func TestVelesNearMisses(t *testing.T) {
	for _, line := range []string{
		"AIzaSy is the prefix of a Google API key",
		"from huggingface_hub import hf_hub_download",
		"See the sg.example.com.sg. mirror",
		"the twilio SDK reads TWILIO_API_KEY from the environment",
		"telegram: 12345:short",
		"sk_live_ placeholder",
		"docker login with a dckr_pat_ token",
	} {
		for _, h := range defaultScanner().scan([]byte(line), true) {
			t.Errorf("%q: unexpected %s hit %q", line, h.rule.ID, h.display)
		}
	}
}

func TestRuleTableFitsTheMask(t *testing.T) {
	if len(ruleTable) > 64 {
		t.Fatalf("%d rules: the keyword pass marks lines with a 64-bit rule mask", len(ruleTable))
	}
	seen := map[string]bool{}
	for _, r := range ruleTable {
		if seen[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		seen[r.ID] = true
		for _, k := range r.keywords {
			if k != strings.ToLower(k) {
				t.Errorf("%s: keyword %q must be lower case", r.ID, k)
			}
		}
	}
}
