// Command push measures push → findings latency of a running `vigil
// serve`: it runs a real CNCF Distribution registry (in-process, in-memory
// storage) whose notifications go to the service, registers it through the
// API, then pushes a corpus image at a steady rate, each push with its own
// config label so every push is a new digest, and polls
// GET /api/v1/images/{digest} until the image is evaluated, then reads its
// findings. It prints p50/p95/max from the start of each push. bench/serve/push.sh runs it.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	vigil := flag.String("url", "", "the service's base URL")
	token := flag.String("token", os.Getenv("VIGIL_TOKEN"), "admin API token (default $VIGIL_TOKEN)")
	imagePath := flag.String("image", "", "docker save archive to push (.tar or .tar.gz), e.g. corpus images/alpine-310.tar.gz")
	rate := flag.Float64("rate", 100, "pushes per minute")
	duration := flag.Duration("duration", 3*time.Minute, "how long to push")
	timeout := flag.Duration("timeout", 3*time.Minute, "a push without findings this long after it counts as failed")
	flag.Parse()
	if *vigil == "" || *token == "" || *imagePath == "" {
		log.Fatal("push: want -url, -token and -image")
	}
	ctx := context.Background()
	base, err := tarball.Image(opener(*imagePath), nil)
	if err != nil {
		log.Fatal(err)
	}
	regURL := startRegistry(ctx, *vigil, *token)
	log.Printf("registry %s sends notifications to %s", regURL, *vigil)

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    int
		wg        sync.WaitGroup
	)
	tick := time.NewTicker(time.Duration(float64(time.Minute) / *rate))
	defer tick.Stop()
	end := time.Now().Add(*duration)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := pushAndWait(ctx, base, regURL, i, *vigil, *token, *timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				log.Printf("push %d: %v", i, err)
				return
			}
			latencies = append(latencies, d)
		}()
	}
	wg.Wait()
	slices.Sort(latencies)
	q := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Round(10 * time.Millisecond)
	}
	fmt.Printf("pushes %d at %.0f/min, findings visible for %d, failed %d: p50 %v, p95 %v, max %v\n",
		len(latencies)+failed, *rate, len(latencies), failed, q(0.5), q(0.95), q(1))
	if failed > 0 {
		os.Exit(1)
	}
}

// opener reads a docker save archive, gunzipping it when needed.
func opener(path string) tarball.Opener {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		var magic [2]byte
		if _, err := io.ReadFull(f, magic[:]); err != nil {
			f.Close()
			return nil, err
		}
		f.Seek(0, io.SeekStart)
		if magic != [2]byte{0x1f, 0x8b} {
			return f, nil
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}
}

// startRegistry serves a Distribution registry on a free port, registered
// with the service under a webhook secret, its notifications sent there.
func startRegistry(ctx context.Context, vigil, token string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	regURL := "http://" + l.Addr().String()
	const secret = "bench-push-secret"
	var reg struct {
		ID string `json:"id"`
	}
	body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("bench-push-%d", time.Now().Unix()), "url": regURL, "insecure": true, "webhook_secret": secret})
	if err := api(ctx, "POST", vigil+"/api/v1/registries", token, body, &reg); err != nil {
		log.Fatal(err)
	}
	cfg := &configuration.Configuration{Storage: configuration.Storage{"inmemory": configuration.Parameters{}}}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.Notifications.Endpoints = []configuration.Endpoint{{
		Name: "vigil", URL: vigil + "/api/v1/webhooks/distribution/" + reg.ID,
		Headers: http.Header{"Authorization": {"Bearer " + secret}}, Timeout: 5 * time.Second, Threshold: 5, Backoff: time.Second,
		IgnoredMediaTypes: []string{"application/octet-stream"},
	}}
	app := handlers.NewApp(ctx, cfg)
	go http.Serve(l, app)
	return regURL
}

// pushAndWait pushes image i and waits for its findings.
func pushAndWait(ctx context.Context, base v1.Image, regURL string, i int, vigil, token string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	cf, err := base.ConfigFile()
	if err != nil {
		return 0, err
	}
	cfg := cf.Config.DeepCopy()
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels["vigil.bench.push"] = fmt.Sprintf("%d-%d", start.UnixNano(), i)
	img, err := mutate.Config(base, *cfg)
	if err != nil {
		return 0, err
	}
	digest, err := img.Digest()
	if err != nil {
		return 0, err
	}
	ref, err := name.ParseReference(fmt.Sprintf("%s/bench/app%d:p%d", regURL[len("http://"):], i%10, i), name.Insecure)
	if err != nil {
		return 0, err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return 0, fmt.Errorf("pushing: %w", err)
	}
	for time.Since(start) < timeout {
		// Evaluated: its findings (the corpus Alpine 3.10.4 image may have
		// none in the corpus feeds) are what the findings endpoint serves.
		var im struct {
			Status          string  `json:"status"`
			LastEvaluatedAt *string `json:"last_evaluated_at"`
		}
		err := api(ctx, "GET", vigil+"/api/v1/images/"+digest.String(), token, nil, &im)
		if err == nil && im.Status == "scanned" && im.LastEvaluatedAt != nil {
			var page struct {
				Items []json.RawMessage `json:"items"`
			}
			if err := api(ctx, "GET", vigil+"/api/v1/images/"+digest.String()+"/findings", token, nil, &page); err != nil {
				return 0, err
			}
			return time.Since(start), nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s: not evaluated after %v", digest, timeout)
}

func api(ctx context.Context, method, url, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}
