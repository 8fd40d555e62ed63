package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// settingsCmd returns the named command of a fresh root, its flags parsed
// from args, with env as the environment.
func settingsCmd(t *testing.T, name string, env map[string]string, args ...string) (*cobra.Command, *App) {
	t.Helper()
	var out bytes.Buffer
	app := &App{IO: IO{Out: &out, Err: &out, Getenv: func(k string) string { return env[k] }}}
	root := newRootCmd(app)
	for _, c := range root.Commands() {
		if c.Name() == name {
			if err := c.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			return c, app
		}
	}
	t.Fatalf("no command %s", name)
	return nil, nil
}

// sampleValues returns two distinct valid values for a flag, both unlike
// its default, as they would be written in the environment.
func sampleValues(fl *pflag.Flag) (string, string) {
	switch fl.Value.Type() {
	case "bool":
		if fl.DefValue == "true" {
			return "false", "false"
		}
		return "true", "true"
	case "int", "int64":
		return "7", "9"
	case "duration":
		return "3s", "5s"
	}
	return "value-a", "value-b"
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every flag of every scanning command has an environment variable and a
// config-file key, and the environment wins over the file.
func TestEverySettingHasEnvAndConfigKey(t *testing.T) {
	for _, name := range settingsCommands {
		probe, _ := settingsCmd(t, name, nil)
		var flags []*pflag.Flag
		probe.Flags().VisitAll(func(fl *pflag.Flag) {
			if !slices.Contains(unboundFlags, fl.Name) {
				flags = append(flags, fl)
			}
		})
		if len(flags) < 5 {
			t.Fatalf("%s: only %d flags", name, len(flags))
		}
		for _, fl := range flags {
			a, b := sampleValues(fl)
			// Config file alone.
			cfg := writeConfig(t, "scan:\n  "+fl.Name+": \""+a+"\"\n")
			cmd, app := settingsCmd(t, name, map[string]string{"VIGIL_CONFIG": cfg})
			if err := bindSettings(cmd, app); err != nil {
				t.Fatalf("%s --%s from config: %v", name, fl.Name, err)
			}
			if got := cmd.Flags().Lookup(fl.Name); !got.Changed || !strings.Contains(got.Value.String(), a) {
				t.Errorf("%s: config scan.%s: %q did not set the flag (value %q)", name, fl.Name, a, got.Value.String())
			}
			// Environment over config file.
			env := map[string]string{envName(fl.Name): b, "VIGIL_CONFIG": cfg}
			cmd, app = settingsCmd(t, name, env)
			if err := bindSettings(cmd, app); err != nil {
				t.Fatalf("%s --%s from env: %v", name, fl.Name, err)
			}
			if got := cmd.Flags().Lookup(fl.Name).Value.String(); !strings.Contains(got, b) || (a != b && strings.Contains(got, a)) {
				t.Errorf("%s: %s=%q with config %q gives %q", name, envName(fl.Name), b, a, got)
			}
		}
	}
}

func TestSettingsPrecedence(t *testing.T) {
	cfg := writeConfig(t, "scan:\n  severity-threshold: LOW\n  format: [json, sarif=out.sarif]\n  skip-dirs: [a, b]\n  ignore-unfixed: true\n")
	env := map[string]string{"VIGIL_SEVERITY_THRESHOLD": "MEDIUM", "VIGIL_SKIP_DIRS": "c,d"}

	cmd, app := settingsCmd(t, "image", env, "--config", cfg, "--severity-threshold", "HIGH")
	if err := bindSettings(cmd, app); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{
		"severity-threshold": "HIGH",                   // flag > env > file
		"skip-dirs":          "[c,d]",                  // env > file, split on commas
		"format":             "[json,sarif=out.sarif]", // file > default
		"ignore-unfixed":     "true",
		"checks":             "true", // default
	} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
	cmd, app = settingsCmd(t, "image", env, "--config", cfg)
	if err := bindSettings(cmd, app); err != nil {
		t.Fatal(err)
	}
	if got := cmd.Flags().Lookup("severity-threshold").Value.String(); got != "MEDIUM" {
		t.Errorf("env did not win over the file: %q", got)
	}
}

func TestSettingsMalformed(t *testing.T) {
	tests := []struct{ cfg, env, want string }{
		{"scan:\n  severty: HIGH\n", "", ":2: unknown scan setting \"severty\""},
		{"scan: [a]\n", "", ":1: scan must be a mapping"},
		{"scan:\n  exit-code: many\n", "", ":2: scan.exit-code"},
		{"scan:\n  severity-threshold: [HIGH, LOW]\n", "", "takes one value"},
		{"scan:\n  format: {a: b}\n", "", "want a value or a list"},
		{"scan:\n  config: x\n", "", "unknown scan setting \"config\""},
		{"", "many", "VIGIL_EXIT_CODE=\"many\""},
	}
	for _, tc := range tests {
		cfg := writeConfig(t, tc.cfg)
		env := map[string]string{}
		if tc.env != "" {
			env["VIGIL_EXIT_CODE"] = tc.env
		}
		cmd, app := settingsCmd(t, "image", env, "--config", cfg)
		err := bindSettings(cmd, app)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// Through Main: exit 2 with the message.
	cfg := writeConfig(t, "scan:\n  severty: HIGH\n")
	code, _, stderr := run(t, nil, "", "image", "alpine:3.20", "--config", cfg)
	if code != ExitScanFailed || !strings.Contains(stderr, "severty") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
}

// vigil lint's own flags are settings too: the environment and the
// config file reach them, and a bad value names its source.
func TestLintSettings(t *testing.T) {
	cfg := writeConfig(t, "scan:\n  exit-level: FATAL\n  ignore: [CIS-DI-0005, DKL-DI-0006]\n")
	cmd, app := settingsCmd(t, "lint", map[string]string{"VIGIL_CONFIG": cfg, "VIGIL_ACCEPT_KEY": "GPG_KEY"})
	if err := bindSettings(cmd, app); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"exit-level": "FATAL", "ignore": "[CIS-DI-0005,DKL-DI-0006]", "accept-key": "[GPG_KEY]"} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("lint --%s = %q, want %q", flag, got, want)
		}
	}
	code, _, stderr := run(t, map[string]string{"VIGIL_EXIT_CODE": "many"}, "", "lint", "docker-archive:/nonexistent.tar")
	if code != ExitScanFailed || !strings.Contains(stderr, `VIGIL_EXIT_CODE="many"`) {
		t.Errorf("code %d stderr %q", code, stderr)
	}
}
