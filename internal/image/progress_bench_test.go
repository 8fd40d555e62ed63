package image

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/imagetest"
)

// BenchmarkReadProgress reads a 6-layer image (about 110 MiB uncompressed,
// 9,000 files) cold, alternately with no progress and with the progress the
// CLI's terminal display keeps (counters, a per-layer callback, a 200 ms
// sampler formatting a line): one op is one read of each, so load drift on
// the shared machine hits both alike. It reports each one's wall and CPU
// (user+sys of the process) time per read, and "on" over "off" in percent;
// the budget is < 2 %.
func BenchmarkReadProgress(b *testing.B) {
	ref := progressBenchImage(b)
	analyzers := catalog.Packages()
	var wall, cpu [2]time.Duration
	round := 0
	for b.Loop() {
		round++
		for _, on := range []bool{round%2 == 0, round%2 != 0} { // which goes first alternates
			opts := Options{TempDir: b.TempDir()}
			stop := func() {}
			if on {
				opts.Progress, stop = sampledProgress()
			}
			w0, c0 := time.Now(), cpuTime()
			_, err := Read(context.Background(), ref, analyzers, opts)
			stop()
			if err != nil {
				b.Fatal(err)
			}
			k := 0
			if on {
				k = 1
			}
			wall[k] += time.Since(w0)
			cpu[k] += cpuTime() - c0
		}
	}
	n := float64(b.N)
	b.ReportMetric(wall[0].Seconds()/n, "off-wall-s/op")
	b.ReportMetric(wall[1].Seconds()/n, "on-wall-s/op")
	b.ReportMetric(cpu[0].Seconds()/n, "off-cpu-s/op")
	b.ReportMetric(cpu[1].Seconds()/n, "on-cpu-s/op")
	b.ReportMetric(100*(wall[1].Seconds()/wall[0].Seconds()-1), "wall-cost-%")
	b.ReportMetric(100*(cpu[1].Seconds()/cpu[0].Seconds()-1), "cpu-cost-%")
}

// sampledProgress is what internal/cli's startProgress does on a terminal.
func sampledProgress() (*Progress, func()) {
	p := &Progress{}
	var lines atomic.Int64
	p.OnLayer = func(int, string, int64, int, bool) { lines.Add(1) }
	done := make(chan struct{})
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
	return p, func() { close(done) }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var progressImage struct {
	once sync.Once
	ref  string
}

// progressBenchImage builds the benchmark's image once per process: text
// files of pseudo-random words (so gzip works as on real layers).
func progressBenchImage(b *testing.B) string {
	progressImage.once.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua")
		var steps []imagetest.Step
		for l := range 6 {
			var entries []imagetest.Entry
			for i := range 1500 {
				var sb strings.Builder
				for sb.Len() < 12<<10 {
					sb.WriteString(words[rng.IntN(len(words))])
					sb.WriteByte(' ')
				}
				entries = append(entries, imagetest.Entry{Name: fmt.Sprintf("srv/l%d/d%d/f%d.txt", l, i%50, i), Body: sb.String()})
			}
			steps = append(steps, imagetest.Step{CreatedBy: fmt.Sprintf("COPY layer %d", l), Entries: entries})
		}
		img := imagetest.Build(b, empty.Image, nil, steps...)
		dir, err := os.MkdirTemp("", "vigil-progress-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		// Kept for the process's other runs (-count); removed by the OS's tmp cleanup.
		p := filepath.Join(dir, "image.tar")
		if err := tarball.WriteToFile(p, name.MustParseReference("bench/progress:1"), img); err != nil {
			b.Fatal(err)
		}
		progressImage.ref = "docker-archive:" + p
	})
	if progressImage.ref == "" {
		b.Fatal("building the benchmark image failed")
	}
	return progressImage.ref
}

// BenchmarkProgressTick is one redraw of the terminal line (sample the
// counters, format the line) plus one layer callback: with a redraw every
// 200 ms and a callback per layer, its cost times the number of ticks
// bounds what progress adds to a scan, free of the load noise that
// BenchmarkReadProgress's end-to-end comparison carries.
func BenchmarkProgressTick(b *testing.B) {
	p := &Progress{}
	var lines atomic.Int64
	p.OnLayer = func(int, string, int64, int, bool) { lines.Add(1) }
	for b.Loop() {
		p.Bytes.Add(1 << 20)
		p.layerDone(1, "sha256:0123456789abcdef", 1<<20, 3, false)
		fmt.Fprintf(io.Discard, "\r\x1b[Kreading layers %d/%d · %d bytes · %d packages",
			p.LayersDone.Load(), p.LayersTotal.Load(), p.Bytes.Load(), p.Packages.Load())
	}
}
