package checks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Tool configuration files that may carry a registry or host credential.
// Each detector returns what it found (names, never values).

// maxConfigFileBytes bounds a credential config file read.
const maxConfigFileBytes = 1 << 20

// configDetector finds stored credentials in one kind of config file.
type configDetector struct {
	what   string
	detect func([]byte) ([]string, error)
}

// credentialConfig returns the detector for a path, if it is such a file.
func credentialConfig(p, base string) (configDetector, bool) {
	switch base {
	case ".npmrc":
		return configDetector{"npm config", npmrcCredentials}, true
	case ".yarnrc.yml":
		return configDetector{"Yarn config", yarnrcCredentials}, true
	case ".pypirc":
		return configDetector{"PyPI config", pypircCredentials}, true
	case ".netrc", "_netrc":
		return configDetector{"netrc", netrcCredentials}, true
	case ".git-credentials":
		return configDetector{"git credential store", gitCredentials}, true
	case "config.json":
		if path.Base(path.Dir(p)) == ".docker" {
			return configDetector{"Docker config", dockerConfigCredentials}, true
		}
	case "config":
		if path.Base(path.Dir(p)) == ".git" {
			return configDetector{"git config", gitCredentials}, true
		}
	}
	return configDetector{}, false
}

// iniPairs yields key, value and line number of "key = value" lines,
// skipping comments and [sections].
func iniPairs(b []byte, fn func(key, value string, line int)) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxConfigFileBytes)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		if !ok {
			continue
		}
		fn(strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`), n)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}

// npmrcCredentials finds _authToken, _auth and _password settings.
func npmrcCredentials(b []byte) ([]string, error) {
	var found []string
	err := iniPairs(b, func(k, v string, line int) {
		_, setting := splitScope(k)
		switch setting {
		case "_authToken", "_auth", "_password", "password":
			if literalValue(v) {
				found = append(found, fmt.Sprintf("%s (line %d)", k, line))
			}
		}
	})
	return found, err
}

// splitScope splits "//registry.npmjs.org/:_authToken" into its registry
// scope and setting name.
func splitScope(k string) (string, string) {
	if i := strings.LastIndex(k, ":"); i >= 0 && strings.HasPrefix(k, "//") {
		return k[:i], k[i+1:]
	}
	return "", k
}

// yarnrcCredentials finds npmAuthToken and npmAuthIdent in .yarnrc.yml,
// at any nesting (npmScopes, npmRegistries).
func yarnrcCredentials(b []byte) ([]string, error) {
	var found []string
	err := iniPairs(b, func(k, v string, line int) {
		if (k == "npmAuthToken" || k == "npmAuthIdent") && literalValue(v) {
			found = append(found, fmt.Sprintf("%s (line %d)", k, line))
		}
	})
	return found, err
}

// pypircCredentials finds password settings of any repository section.
func pypircCredentials(b []byte) ([]string, error) {
	var found []string
	err := iniPairs(b, func(k, v string, line int) {
		if strings.EqualFold(k, "password") && literalValue(v) {
			found = append(found, fmt.Sprintf("password (line %d)", line))
		}
	})
	return found, err
}

// netrcCredentials finds "password X" tokens; an entry may span lines,
// and a macdef body (up to a blank line) is not tokens.
func netrcCredentials(b []byte) ([]string, error) {
	var found []string
	expectPassword, inMacro := false, false
	for n, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if inMacro {
			inMacro = len(fields) > 0
			continue
		}
		for _, f := range fields {
			switch {
			case expectPassword:
				found = append(found, fmt.Sprintf("password (line %d)", n+1))
				expectPassword = false
			case f == "password":
				expectPassword = true
			case f == "macdef":
				inMacro = true
			}
			if inMacro {
				break
			}
		}
	}
	return found, nil
}

// gitCredentials finds URLs with a password (git credential store lines,
// remote URLs in .git/config).
func gitCredentials(b []byte) ([]string, error) {
	var found []string
	for n, line := range strings.Split(string(b), "\n") {
		if urlPassword.MatchString(line) {
			found = append(found, fmt.Sprintf("URL with password (line %d)", n+1))
		}
	}
	return found, nil
}

// dockerConfigCredentials finds registries with a stored auth, password or
// identity token in ~/.docker/config.json (credsStore/credHelpers keep
// credentials outside the file and are fine).
func dockerConfigCredentials(b []byte) ([]string, error) {
	var cfg struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
			RegistryToken string `json:"registrytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("parsing Docker config: %w", err)
	}
	var found []string
	for host, a := range cfg.Auths {
		if a.Auth != "" || a.Password != "" || a.IdentityToken != "" || a.RegistryToken != "" {
			found = append(found, "auth for "+truncate(host, 100))
		}
	}
	sort.Strings(found)
	return found, nil
}
