package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/vigil-scan/vigil/internal/config"
)

// settingsCommands are the commands whose every flag can also come from
// the environment (VIGIL_<FLAG>) or the config file's scan: section.
var settingsCommands = []string{"image", "sbom-scan", "sbom", "lint"}

// unboundFlags are not settings: where the settings come from, help, and
// the log level (set before any command runs, from VIGIL_LOG_LEVEL).
var unboundFlags = []string{"config", "help", "log-level"}

// envName is the environment variable of a flag: --severity-threshold is
// VIGIL_SEVERITY_THRESHOLD.
func envName(flag string) string {
	return "VIGIL_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindSettings fills every flag not given on the command line, once for
// all flags: from its environment variable, else from the config file's
// scan: section, else it keeps its default. This is the whole precedence
// table of docs/configuration.md (flag > env > config file > default).
func bindSettings(cmd *cobra.Command, app *App) error {
	path := ""
	if f := cmd.Flags().Lookup("config"); f != nil {
		path = f.Value.String()
	}
	cfg, err := config.LoadFile(app.Getenv, path)
	if err != nil {
		return err
	}
	keys, err := scanKeys(cmd, cfg)
	if err != nil {
		return err
	}
	var errs []string
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || slices.Contains(unboundFlags, fl.Name) {
			return
		}
		env := envName(fl.Name)
		if v := app.Getenv(env); v != "" {
			if err := setFlag(fl, splitEnv(fl, v)); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", env, v, err))
			}
			return
		}
		n, ok := keys[fl.Name]
		if !ok {
			return
		}
		vals, err := nodeValues(n)
		if err == nil {
			err = setFlag(fl, vals)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("config %s:%d: scan.%s: %v", cfg.File, n.Line, fl.Name, err))
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// scanKeys returns the config file's scan: entries. A key that is no flag
// of any scanning command is an error (a typo must not pass silently); a
// flag of another scanning command is fine (sbom has no --severity).
func scanKeys(cmd *cobra.Command, cfg config.Config) (map[string]*yaml.Node, error) {
	n := &cfg.Scan
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config %s:%d: scan must be a mapping of flag names to values", cfg.File, n.Line)
	}
	known := map[string]bool{}
	for _, c := range cmd.Root().Commands() {
		if slices.Contains(settingsCommands, c.Name()) {
			c.Flags().VisitAll(func(fl *pflag.Flag) { known[fl.Name] = true })
		}
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !known[k.Value] || slices.Contains(unboundFlags, k.Value) {
			return nil, fmt.Errorf("config %s:%d: unknown scan setting %q (keys are the flag names of vigil image, e.g. severity-threshold)", cfg.File, k.Line, k.Value)
		}
		out[k.Value] = n.Content[i+1]
	}
	return out, nil
}

// isList reports whether a flag takes several values.
func isList(fl *pflag.Flag) bool {
	_, ok := fl.Value.(pflag.SliceValue)
	return ok
}

// splitEnv splits a list flag's environment value on commas, as the
// command line does for --severity HIGH,CRITICAL.
func splitEnv(fl *pflag.Flag, v string) []string {
	if !isList(fl) {
		return []string{v}
	}
	return strings.Split(v, ",")
}

// nodeValues reads a scalar or a list of scalars.
func nodeValues(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: want a plain value", item.Line)
			}
			out = append(out, item.Value)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a value or a list of values")
}

// setFlag sets a flag as if given on the command line, so its parser
// validates the value; a list flag gets all values, replacing its default.
func setFlag(fl *pflag.Flag, vals []string) error {
	if len(vals) > 1 && !isList(fl) {
		return fmt.Errorf("takes one value, got a list")
	}
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		var clean []string
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				clean = append(clean, v)
			}
		}
		if err := sv.Replace(clean); err != nil {
			return err
		}
	} else if err := fl.Value.Set(strings.TrimSpace(vals[0])); err != nil {
		return err
	}
	fl.Changed = true
	return nil
}
