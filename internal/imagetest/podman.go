package imagetest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Podman is a real Podman serving the Docker-compatible Engine API on a
// unix socket, with its own storage (vfs, so it runs in any container).
type Podman struct {
	Socket string // path of the API socket
	root   string
	*daemon
}

// Host is the socket as a DOCKER_HOST / CONTAINER_HOST value.
func (p *Podman) Host() string { return "unix://" + p.Socket }

var (
	podmanOnce sync.Once
	podman     *Podman
	podmanErr  error
)

// StartPodman returns the package's Podman service, starting it on first
// use; it runs until the test binary exits (PodmanCleanup in TestMain
// removes its storage). Without a podman binary the test is skipped, or
// fails under CI=true, where .ci/run installs it.
func StartPodman(tb testing.TB) *Podman {
	tb.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		unavailable(tb, "podman is not installed; apt-get install podman to run the daemon tests (.ci/run installs it)")
	}
	podmanOnce.Do(func() { podman, podmanErr = startPodman() })
	if podmanErr != nil {
		tb.Fatalf("starting podman: %v", podmanErr)
	}
	return podman
}

// PodmanCleanup stops the service and removes its storage; call it from
// TestMain after m.Run.
func PodmanCleanup() {
	if podman == nil {
		return
	}
	podman.stop()
	// vfs layers are read-only copies podman can remove; a plain RemoveAll
	// covers what it leaves.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = podman.run(ctx, "system", "reset", "--force")
	os.RemoveAll(podman.root)
}

func startPodman() (*Podman, error) {
	root, err := os.MkdirTemp("", "vigil-podman-*")
	if err != nil {
		return nil, err
	}
	p := &Podman{root: root, Socket: filepath.Join(root, "api.sock")}
	if err := os.MkdirAll(filepath.Join(root, "xdg"), 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command("podman", append(p.globalFlags(), "system", "service", "--time=0", p.Host())...)
	cmd.Env = p.env()
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if p.daemon, err = startDaemon(cmd); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if err := p.waitReady("podman API", p.Socket, 30*time.Second, nil, nil); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	return p, nil
}

// globalFlags keep every path of this Podman under its root: with the
// default --tmpdir (/run/libpod) one test binary's `system reset` removed
// another's state ("creating runtime status file: open /run/libpod/alive")
// when two packages' tests ran at once.
func (p *Podman) globalFlags() []string {
	return []string{"--storage-driver", "vfs", "--root", filepath.Join(p.root, "storage"),
		"--runroot", filepath.Join(p.root, "run"), "--tmpdir", filepath.Join(p.root, "tmp"),
		"--cgroup-manager", "cgroupfs", "--events-backend", "file"}
}

func (p *Podman) env() []string {
	env := os.Environ()
	return append(env, "XDG_RUNTIME_DIR="+filepath.Join(p.root, "xdg"))
}

func (p *Podman) run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "podman", append(p.globalFlags(), args...)...)
	cmd.Env = p.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("podman %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Load loads a docker save or OCI archive (gunzipped first: podman 4.3
// does not decompress); Podman names its tags localhost/NAME:TAG.
func (p *Podman) Load(tb testing.TB, archive string) {
	tb.Helper()
	src := archive
	if strings.HasSuffix(archive, ".gz") {
		src = filepath.Join(tb.TempDir(), "image.tar")
		Gunzip(tb, archive, src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.run(ctx, "load", "-q", "-i", src); err != nil {
		tb.Fatal(err)
	}
}

// Tag tags an image.
func (p *Podman) Tag(tb testing.TB, image, tag string) {
	tb.Helper()
	if err := p.run(context.Background(), "tag", image, tag); err != nil {
		tb.Fatal(err)
	}
}
