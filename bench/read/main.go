// Command read times image.Read over an image with the analyzers a scan
// registers (internal/catalog.Default), for bench/layers.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/image"
)

func main() {
	cache := flag.String("cache", "", "layer cache directory (empty: no cache)")
	concurrency := flag.Int("j", 2, "layers read at once")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: read [-cache DIR] [-j N] REF")
	}
	start := time.Now()
	inv, err := image.Read(context.Background(), flag.Arg(0), catalog.Packages(), image.Options{CacheDir: *cache, Concurrency: *concurrency})
	if err != nil {
		log.Fatal(err)
	}
	elapsed := time.Since(start)
	fmt.Printf("read %s: %d layers, %d packages, %s, OS %s %s, %d warnings\n",
		flag.Arg(0), len(inv.Artifact.Layers), len(inv.Packages), elapsed.Round(time.Millisecond),
		inv.Artifact.OS.Family, inv.Artifact.OS.Version, len(inv.Warnings))
}
