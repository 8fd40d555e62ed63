// Command read times image.Read over an image with the analyzers a scan
// registers (internal/catalog.Packages, optionally the checks and secrets
// analyzers), for bench/layers.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/secrets"
)

func main() {
	cache := flag.String("cache", "", "layer cache directory (empty: no cache)")
	concurrency := flag.Int("j", image.DefaultConcurrency, "layers read at once")
	withChecks := flag.Bool("checks", false, "also run the best-practice analyzer")
	withSecrets := flag.Bool("secrets", false, "also run the secret scanner")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here")
	progress := flag.Bool("progress", false, "count progress and sample it every 200 ms, as the terminal display does")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: read [flags] REF")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *cache, *concurrency, *withChecks, *withSecrets, *cpuProfile, *progress); err != nil {
		log.Fatal(err)
	}
}

func run(ref, cache string, concurrency int, withChecks, withSecrets bool, cpuProfile string, progress bool) error {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	analyzers := catalog.Packages()
	if withChecks {
		analyzers = append(analyzers, checks.Analyzer())
	}
	if withSecrets {
		analyzers = append(analyzers, secrets.Analyzer(secrets.Options{}))
	}
	opts := image.Options{CacheDir: cache, Concurrency: concurrency}
	if progress {
		// What the CLI's terminal display does: sample the counters on a
		// ticker and format a line (to io.Discard here).
		p := &image.Progress{}
		opts.Progress = p
		done := make(chan struct{})
		defer close(done)
		go func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					fmt.Fprintf(io.Discard, "\r\x1b[Kreading layers %d/%d · %d bytes · %d packages",
						p.LayersDone.Load(), p.LayersTotal.Load(), p.Bytes.Load(), p.Packages.Load())
				}
			}
		}()
	}
	start := time.Now()
	inv, err := image.Read(context.Background(), ref, analyzers, opts)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Printf("read %s: %d layers, %d packages, %s, OS %s %s, %d warnings\n",
		ref, len(inv.Artifact.Layers), len(inv.Packages), elapsed.Round(time.Millisecond),
		inv.Artifact.OS.Family, inv.Artifact.OS.Version, len(inv.Warnings))
	return nil
}
