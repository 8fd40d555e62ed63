// Command vigil finds known vulnerabilities in container images.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-scan/vigil/internal/cli"
	"github.com/vigil-scan/vigil/internal/gctune"
)

func main() {
	gctune.Start()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.StdIO())
	stop()
	os.Exit(code)
}
