package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Daemon hosts are resolved here rather than with docker/cli's context
// store, which would pull the whole CLI into the binary; the rules are the
// CLI's own (docs.docker.com/engine/manage-resources/contexts):
// DOCKER_HOST, then DOCKER_CONTEXT, then the config's currentContext, then
// the default socket.

const (
	defaultDockerHost = "unix:///var/run/docker.sock"
	rootPodmanSocket  = "/run/podman/podman.sock"
)

// Env reads an environment variable; tests substitute their own.
type Env func(string) string

// dockerHost returns the Engine API endpoint the docker CLI would use, and
// where it came from (for error messages).
func dockerHost(getenv Env) (host, from string, err error) {
	if h := getenv("DOCKER_HOST"); h != "" {
		return h, "DOCKER_HOST", nil
	}
	configDir := getenv("DOCKER_CONFIG")
	if configDir == "" {
		home := getenv("HOME")
		if home == "" {
			return defaultDockerHost, "the default socket", nil
		}
		configDir = filepath.Join(home, ".docker")
	}
	ctxName, from := getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	if ctxName == "" {
		ctxName, from = currentContext(configDir), "the current docker context"
	}
	if ctxName == "" || ctxName == "default" {
		return defaultDockerHost, "the default socket", nil
	}
	host, err = contextHost(configDir, ctxName)
	if err != nil {
		return "", "", fmt.Errorf("docker context %q (from %s): %w", ctxName, from, err)
	}
	return host, fmt.Sprintf("docker context %q", ctxName), nil
}

// currentContext reads currentContext from config.json; a missing or
// unreadable file means the default context, as for the CLI.
func currentContext(configDir string) string {
	b, err := readSmallFile(filepath.Join(configDir, "config.json"), 1<<20)
	if err != nil {
		return ""
	}
	var cfg struct {
		CurrentContext string `json:"currentContext"`
	}
	if json.Unmarshal(b, &cfg) != nil {
		return ""
	}
	return cfg.CurrentContext
}

// contextHost reads the docker endpoint of a named context: the CLI stores
// it in contexts/meta/<sha256 of the name>/meta.json.
func contextHost(configDir, name string) (string, error) {
	sum := sha256.Sum256([]byte(name))
	p := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	b, err := readSmallFile(p, 1<<20)
	if err != nil {
		return "", fmt.Errorf("reading its metadata: %w", err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	host := meta.Endpoints["docker"].Host
	if host == "" {
		return "", fmt.Errorf("%s has no docker endpoint", p)
	}
	return host, nil
}

// podmanHost returns Podman's Docker-compatible API socket: CONTAINER_HOST,
// else the rootless socket under XDG_RUNTIME_DIR when it exists, else the
// rootful one.
func podmanHost(getenv Env) (host, from string) {
	if h := getenv("CONTAINER_HOST"); h != "" {
		return h, "CONTAINER_HOST"
	}
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		p := filepath.Join(dir, "podman", "podman.sock")
		if _, err := os.Stat(p); err == nil {
			return "unix://" + p, "XDG_RUNTIME_DIR"
		}
	}
	return "unix://" + rootPodmanSocket, "the default socket"
}

func readSmallFile(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, limit)
	}
	return b, nil
}
