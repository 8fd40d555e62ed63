package imagetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Containerd is a real containerd (Debian's package) with its own root,
// state and socket in a temporary directory, run without systemd.
type Containerd struct {
	Socket string
	dir    string
	*daemon
}

var (
	containerdOnce sync.Once
	containerd     *Containerd
	containerdErr  error
)

// StartContainerd returns the package's containerd, starting it on first
// use; it runs until the test binary exits (ContainerdCleanup in TestMain).
// containerd needs root: without root or without the binaries the test is
// skipped, or fails under CI=true, where .ci/run installs containerd and
// runs as root.
func StartContainerd(tb testing.TB) *Containerd {
	tb.Helper()
	for _, bin := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(bin); err != nil {
			unavailable(tb, "%s is not installed; apt-get install containerd to run the containerd tests (.ci/run installs it)", bin)
		}
	}
	if os.Geteuid() != 0 {
		unavailable(tb, "the containerd tests run containerd, which needs root: run them as root (CI does)")
	}
	containerdOnce.Do(func() { containerd, containerdErr = startContainerd() })
	if containerdErr != nil {
		tb.Fatalf("starting containerd: %v", containerdErr)
	}
	return containerd
}

// ContainerdCleanup stops containerd and removes its directories.
func ContainerdCleanup() {
	if containerd == nil {
		return
	}
	containerd.stop()
	os.RemoveAll(containerd.dir)
}

func startContainerd() (*Containerd, error) {
	// Short: a unix socket path is limited to 108 bytes.
	dir, err := os.MkdirTemp("", "vigil-ctrd-*")
	if err != nil {
		return nil, err
	}
	c := &Containerd{dir: dir, Socket: filepath.Join(dir, "c.sock")}
	// Only the metadata and content plugins are needed; the CRI plugin
	// would set up networking, and no container is ever run. Every path
	// is under dir: the opt plugin would otherwise create /opt/containerd.
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.Socket, c.Socket+".ttrpc", filepath.Join(dir, "opt"))
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return nil, err
	}
	// The log goes to a file, not a pipe: a pipe held open by a process
	// containerd started would keep Wait (and the test binary) waiting.
	logPath := filepath.Join(dir, "containerd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close()
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	cmd := exec.Command("containerd", "--config", cfg, "--log-level", "error")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if c.daemon, err = startDaemon(cmd); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ready := func() error { _, err := c.ctr("default", "version"); return err }
	if err := c.waitReady("containerd", c.Socket, 30*time.Second, ready, readLog); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Containerd) ctr(ns string, args ...string) (string, error) {
	// Bounded: a wedged containerd fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", c.Socket, "--namespace", ns}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Import imports a docker save or OCI archive (gzipped or not: ctr reads
// only plain tars, so a gzipped one is unpacked to a temporary file first)
// into namespace ns, without unpacking it into a snapshot, for every
// platform it has. args are more ctr import flags (--index-name NAME keeps
// an OCI archive's index as an image named NAME).
func (c *Containerd) Import(tb testing.TB, ns, archive string, args ...string) {
	tb.Helper()
	path := archive
	if strings.HasSuffix(archive, ".gz") {
		path = filepath.Join(tb.TempDir(), "image.tar")
		Gunzip(tb, archive, path)
	}
	if out, err := c.ctr(ns, append(append([]string{"images", "import", "--no-unpack", "--all-platforms"}, args...), path)...); err != nil {
		tb.Fatalf("%v\n%s", err, out)
	}
}

// Images lists the image names in namespace ns.
func (c *Containerd) Images(tb testing.TB, ns string) []string {
	tb.Helper()
	out, err := c.ctr(ns, "images", "list", "--quiet")
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Fields(out)
}

// BlobPath is where containerd's content store keeps the blob with digest
// "sha256:HEX" (for tests that tamper with it).
func (c *Containerd) BlobPath(digest string) string {
	algo, hex, _ := strings.Cut(digest, ":")
	return filepath.Join(c.dir, "root", "io.containerd.content.v1.content", "blobs", algo, hex)
}
