package checks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/inventory"
)

// BenchmarkRun: 200 history steps of ~8 KB shell each.
func BenchmarkRun(b *testing.B) {
	script := strings.Repeat(`apt-get update && apt-get install -y "pkg-$(uname -m)" curl && DB_PASSWORD=x sh -c 'make install' > /dev/null 2>&1; `, 80)
	cfg := &inventory.ImageConfig{Env: []string{"PATH=/bin", "API_TOKEN=x"}}
	for i := 0; i < 200; i++ {
		cfg.History = append(cfg.History, inventory.HistoryEntry{CreatedBy: fmt.Sprintf("RUN |1 N=%d /bin/sh -c %s # buildkit", i, script)})
	}
	inv := &inventory.Inventory{Artifact: inventory.Artifact{Config: cfg}}
	b.SetBytes(int64(200 * len(script)))
	for b.Loop() {
		checks.Run(inv, checks.Options{})
	}
}

// BenchmarkReadAlpine compares reading alpine:3.10 with and without the
// checks analyzer (its cost in the layer walk).
func BenchmarkReadAlpine(b *testing.B) {
	ref := "docker-archive:" + corpus.Path(b, "images", "alpine-310.tar.gz")
	for _, tc := range []struct {
		name      string
		analyzers []inventory.Analyzer
	}{{"without", nil}, {"with", []inventory.Analyzer{checks.Analyzer()}}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := image.Read(context.Background(), ref, tc.analyzers, image.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClaims: the per-entry cost every layer walk pays.
func BenchmarkClaims(b *testing.B) {
	a := checks.Analyzer()
	paths := []string{"usr/share/doc/libc6/copyright", "usr/lib/x86_64-linux-gnu/libssl.so.3", "app/node_modules/lodash/fp/map.js",
		"etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/Europe/Paris", "root/.cache/pip/http/a/b/c"}
	for b.Loop() {
		for _, p := range paths {
			a.Claims(p, 0o644, 1000)
		}
	}
}
