// Command seed stores N generated images (internal/loadtest: 300 packages
// each, a shared Alpine 3.10 base layer) in a `vigil serve` SQLite data
// directory, marked scanned, for bench/serve/rss.sh. Load tests only.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/vigil-scan/vigil/internal/loadtest"
	"github.com/vigil-scan/vigil/internal/store"
)

func main() {
	dir := flag.String("dir", "", "the service's data directory")
	n := flag.Int("images", 10000, "images to store")
	osRelease := flag.String("os-release", "", "the base layer's etc/os-release (corpus pkgdb/os-release/claircore-alpine-3.10/etc/os-release)")
	flag.Parse()
	if *dir == "" || *osRelease == "" {
		log.Fatal("seed: want -dir and -os-release")
	}
	ctx := context.Background()
	keys, err := store.LoadKeyring("", *dir)
	if err != nil {
		log.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{DataDir: *dir, Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	imgs, err := loadtest.Seed(ctx, st, *n, *osRelease)
	if err != nil {
		log.Fatal(err)
	}
	// Scanned (no findings yet): the service's daily pass evaluates them.
	evs := make([]store.Evaluation, 0, 100)
	for i, id := range imgs.IDs {
		evs = append(evs, store.Evaluation{ImageID: id, Kind: "scan"})
		if len(evs) == cap(evs) || i == len(imgs.IDs)-1 {
			if _, err := st.ApplyEvaluations(ctx, evs); err != nil {
				log.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	log.Printf("seed: %d images in %s", len(imgs.IDs), *dir)
}
