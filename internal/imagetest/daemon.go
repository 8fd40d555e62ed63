package imagetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// daemon is a real daemon (containerd, podman) that a test binary starts
// once and kills when it exits.
type daemon struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd's one Wait returns
}

// startDaemon starts cmd so that it dies with the test binary: one killed
// by its timeout skips the cleanup in TestMain.
func startDaemon(cmd *exec.Cmd) (*daemon, error) {
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(d.exited) }()
	return d, nil
}

// waitReady polls until socket accepts a connection and ready (if any)
// succeeds, giving up when the daemon exits or after timeout; it kills
// the daemon on failure. logs, if set, adds the daemon's log to the error.
func (d *daemon) waitReady(name, socket string, timeout time.Duration, ready func() error, logs func() string) error {
	fail := func(format string, args ...any) error {
		d.cmd.Process.Kill()
		msg := fmt.Sprintf(format, args...)
		if logs != nil {
			msg += ": " + logs()
		}
		return fmt.Errorf("%s", msg)
	}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-d.exited:
			return fail("%s exited", name)
		default:
		}
		if conn, err := net.Dial("unix", socket); err == nil {
			conn.Close()
			if ready == nil || ready() == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fail("%s did not answer on %s", name, socket)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the daemon and waits a bounded time for it to exit: a stuck
// exit must not hang a test binary whose tests passed.
func (d *daemon) stop() {
	d.cmd.Process.Kill()
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
	}
}

// unavailable skips a test whose tool is missing, or fails it under
// CI=true, where .ci/run installs every tool the tests drive.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}
