//go:build !linux

package imagetest

import "os/exec"

// dieWithParent: only Linux has a parent-death signal; elsewhere
// ContainerdCleanup is the only cleanup.
func dieWithParent(*exec.Cmd) {}
