package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	imagetest.ContainerdCleanup()
	os.Exit(code)
}

// A bare reference found in containerd (the other daemons not running):
// the SBOM says so, and so does standard error; --containerd-namespace
// and CONTAINERD_NAMESPACE choose the namespace.
func TestSbomFromContainerd(t *testing.T) {
	c := imagetest.StartContainerd(t)
	c.Import(t, "vigil-cli", corpus.Path(t, "images", "alpine-310.tar.gz"))
	dead := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	env := map[string]string{"VIGIL_CACHE_DIR": t.TempDir(), "DOCKER_HOST": dead, "CONTAINER_HOST": dead,
		"CONTAINERD_ADDRESS": c.Socket, "CONTAINERD_NAMESPACE": "vigil-cli"}
	code, stdout, stderr := run(t, env, "", "sbom", "alpine:3.10", "--image-src", "docker,podman,containerd")
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	var doc struct {
		Artifact struct{ Source string }
		Packages []json.RawMessage
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Artifact.Source != "containerd" || len(doc.Packages) != 14 {
		t.Errorf("source %q, %d packages", doc.Artifact.Source, len(doc.Packages))
	}
	if !strings.Contains(stderr, "alpine:3.10: read from the local containerd image store") {
		t.Errorf("stderr does not say where the image came from:\n%s", stderr)
	}
	// The flag wins over the environment; the error names the namespace.
	code, _, stderr = run(t, env, "", "sbom", "containerd:alpine:3.10", "--containerd-namespace", "k8s.io")
	if code != 2 || !strings.Contains(stderr, `namespace "k8s.io"`) || !strings.Contains(stderr, "vigil-cli") {
		t.Errorf("wrong namespace: code %d %s", code, stderr)
	}
}
