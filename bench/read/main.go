// Command read times image.Read over an image with the analyzers a scan
// registers (internal/catalog.Packages, optionally the checks and secrets
// analyzers), for bench/layers.sh.
package main

import (
	"context"
	"flag"
	"fmt"
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
	concurrency := flag.Int("j", 2, "layers read at once")
	withChecks := flag.Bool("checks", false, "also run the best-practice analyzer")
	withSecrets := flag.Bool("secrets", false, "also run the secret scanner")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	analyzers := catalog.Packages()
	if *withChecks {
		analyzers = append(analyzers, checks.Analyzer())
	}
	if *withSecrets {
		analyzers = append(analyzers, secrets.Analyzer(secrets.Options{}))
	}
	if flag.NArg() != 1 {
		log.Fatal("usage: read [-cache DIR] [-j N] REF")
	}
	start := time.Now()
	inv, err := image.Read(context.Background(), flag.Arg(0), analyzers, image.Options{CacheDir: *cache, Concurrency: *concurrency})
	if err != nil {
		log.Fatal(err)
	}
	elapsed := time.Since(start)
	fmt.Printf("read %s: %d layers, %d packages, %s, OS %s %s, %d warnings\n",
		flag.Arg(0), len(inv.Artifact.Layers), len(inv.Packages), elapsed.Round(time.Millisecond),
		inv.Artifact.OS.Family, inv.Artifact.OS.Version, len(inv.Warnings))
}
