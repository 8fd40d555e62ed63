package secrets

import (
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestRedactConfigFields(t *testing.T) {
	tok := "ghp_" + strings.Repeat("aB3dE5fG7h", 4)[:36]
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx3J9k2Lq8vR5tW7yZ1aB4cD6eF8gH0iJ2kL4mN6oP8qR0sT2uV4\n-----END RSA PRIVATE KEY-----"
	cfg := &inventory.ImageConfig{
		Env:         []string{"PATH=/bin", "T=" + tok, "KEY=" + pem, "DB_PASSWORD=hunter2horse", "PASSWORD_FILE=/run/s", "GPG_KEY=ABCDEF0123456789"},
		Labels:      map[string]string{"api-key": "plainwords", "title": "app"},
		Cmd:         []string{"run", tok},
		Entrypoint:  []string{"sh", "-c", "x " + tok},
		Healthcheck: []string{"CMD", tok},
		OnBuild:     []string{"RUN echo " + tok},
		History: []inventory.HistoryEntry{
			{CreatedBy: "ENV DB_PASSWORD=hunter2horse", Comment: "by " + tok},
			{CreatedBy: "ENV KEY=" + strings.ReplaceAll(pem, "\n", `\n`)},
		},
	}
	red, r := RedactConfig(cfg)
	all := strings.Join(red.Env, "|") + red.Labels["api-key"] + strings.Join(red.Cmd, " ") +
		strings.Join(red.Entrypoint, " ") + strings.Join(red.Healthcheck, " ") + strings.Join(red.OnBuild, " ") +
		red.History[0].CreatedBy + red.History[0].Comment + red.History[1].CreatedBy
	for _, s := range []string{tok, "MIIEowIBAAKCAQEAx3J9k2Lq8vR5tW7yZ1aB4cD6eF8gH0iJ2kL4mN6oP8qR0sT2uV4", "hunter2horse", "plainwords"} {
		if strings.Contains(all, s) {
			t.Errorf("%q survives: %s", s, all)
		}
	}
	for _, keep := range []string{"PATH=/bin", "PASSWORD_FILE=/run/s", "GPG_KEY=ABCDEF0123456789", "-----BEGIN RSA PRIVATE KEY-----", "ENV DB_PASSWORD="} {
		if !strings.Contains(all, keep) {
			t.Errorf("%q should stay readable: %s", keep, all)
		}
	}
	if red.Labels["title"] != "app" {
		t.Errorf("labels %v", red.Labels)
	}
	if cfg.Env[1] != "T="+tok {
		t.Error("RedactConfig modified its input")
	}
	if got := r.Text("alert: ENV DB_PASSWORD=hunter2horse"); strings.Contains(got, "hunter2horse") {
		t.Errorf("redactor: %s", got)
	}
	// Masking twice changes nothing.
	again, _ := RedactConfig(red)
	if strings.Join(again.Env, "|") != strings.Join(red.Env, "|") || again.History[1].CreatedBy != red.History[1].CreatedBy {
		t.Errorf("not idempotent: %q vs %q", again.Env, red.Env)
	}
	if c, r := RedactConfig(nil); c != nil || r.Text("x") != "x" {
		t.Error("nil config")
	}
}

func TestMaskPEMBodies(t *testing.T) {
	for in, want := range map[string]string{
		"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----": "-----BEGIN PRIVATE KEY-----****-----END PRIVATE KEY-----",
		"k=-----BEGIN EC PRIVATE KEY-----abc":                         "k=-----BEGIN EC PRIVATE KEY-----****",
		"-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----":        "-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----",
		"no key here": "no key here",
		"-----BEGIN PRIVATE KEY-----a-----END x -----BEGIN PRIVATE KEY-----b-----END y": "-----BEGIN PRIVATE KEY-----****-----END x -----BEGIN PRIVATE KEY-----****-----END y",
	} {
		if got := maskPEMBodies(in); got != want {
			t.Errorf("maskPEMBodies(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRedactConfig: whatever surrounds it, a token in the config never
// survives RedactConfig in any field, and masking twice changes nothing.
func FuzzRedactConfig(f *testing.F) {
	f.Add("PATH=/bin", "RUN echo hi", "-----BEGIN PRIVATE KEY-----")
	f.Add("A=\"", "|1 T=", "\\n")
	f.Add("", "", "")
	tok := "ghp_" + strings.Repeat("Zx9Qw3Er7T", 4)[:36]
	f.Fuzz(func(t *testing.T, env, history, other string) {
		cfg := &inventory.ImageConfig{
			Env:         []string{env, "TOKEN_X=" + tok + " " + env},
			Labels:      map[string]string{other: env},
			Cmd:         []string{other, " " + tok + " "},
			Healthcheck: []string{history},
			OnBuild:     []string{other + " " + tok + " " + history},
			History:     []inventory.HistoryEntry{{CreatedBy: history + " " + tok + " " + other, Comment: other}},
		}
		red, r := RedactConfig(cfg)
		all := strings.Join(red.Env, "\n") + strings.Join(red.Cmd, " ") + strings.Join(red.OnBuild, " ") +
			red.History[0].CreatedBy + r.Text(other+" "+tok)
		if strings.Contains(all, tok) {
			t.Fatalf("token survives: %q", all)
		}
		again, _ := RedactConfig(red)
		if strings.Join(again.Env, "\n") != strings.Join(red.Env, "\n") {
			t.Fatalf("second pass changed %q to %q", red.Env, again.Env)
		}
	})
}

// A report streamed an element at a time masks its layers as RedactReport
// would: the config's own secrets and what the rules find, nil kept nil,
// the caller's reference never modified.
func TestLayerMasker(t *testing.T) {
	tok := "ghp_" + strings.Repeat("Lm4Np6Qr8S", 4)[:36]
	_, red := RedactConfig(&inventory.ImageConfig{Env: []string{"PASSWORD=hunter2-but-longer"}})
	m := LayerMasker{Redactor: red}
	if m.Mask(nil) != nil {
		t.Fatal("nil layer not kept nil")
	}
	ref := &inventory.LayerRef{CreatedBy: "RUN echo hunter2-but-longer && curl -H 'Authorization: token " + tok + "'"}
	orig := ref.CreatedBy
	for range 2 {
		got := m.Mask(ref)
		if strings.Contains(got.CreatedBy, "hunter2-but-longer") || strings.Contains(got.CreatedBy, tok) {
			t.Fatalf("not masked: %q", got.CreatedBy)
		}
	}
	if ref.CreatedBy != orig {
		t.Fatal("the caller's layer reference was modified")
	}
}
