// Command web measures the web UI's server response times on a large
// tenant: it seeds a service store (SQLite file or PostgreSQL) through the
// store's own API with N images of M findings each (generated: this is a
// load test, not vulnerability data), serves the UI in-process and requests
// every page type R times, printing p50/p95/max and the page size.
//
//	go run ./bench/web -images 10000 -findings 100                       # SQLite in a temp dir
//	go run ./bench/web -database postgres://postgres@127.0.0.1:5432/test  # PostgreSQL (schema bench_web)
//
// Seeding is kept between runs (-keep DIR for SQLite; the PostgreSQL schema
// is reused when it holds the requested number of images).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/store"
	"github.com/vigil-scan/vigil/internal/vuln"
	"github.com/vigil-scan/vigil/internal/web"
)

func main() {
	database := flag.String("database", "", "postgres://... (default: an SQLite file in -keep or a temp dir)")
	keep := flag.String("keep", "", "SQLite data directory to create or reuse")
	images := flag.Int("images", 10000, "images to seed")
	perImage := flag.Int("findings", 100, "findings per image")
	repos := flag.Int("repos", 500, "repositories")
	requests := flag.Int("requests", 200, "requests per page type")
	only := flag.String("only", "", "measure only the pages whose name contains this")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured requests to this file")
	flag.Parse()
	ctx := context.Background()

	dir := *keep
	if dir == "" && *database == "" {
		d, err := os.MkdirTemp("", "vigil-bench-web-*")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	opts := store.Options{URL: *database, DataDir: dir}
	if *database != "" {
		opts.Schema = "bench_web"
	}
	keys, err := store.LoadKeyring("", filepath.Join(os.TempDir(), "vigil-bench-web-key"))
	if err != nil {
		log.Fatal(err)
	}
	opts.Keys = keys
	st, err := store.Open(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	tenant, err := st.EnsureTenant(ctx, "bench")
	if err != nil {
		log.Fatal(err)
	}
	sum, err := st.Summary(ctx, tenant.ID)
	if err != nil {
		log.Fatal(err)
	}
	if sum.Images < *images {
		t0 := time.Now()
		if err := seed(ctx, st, tenant.ID, *images-sum.Images, sum.Images, *perImage, *repos); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("seeded %d images x %d findings in %s\n", *images-sum.Images, *perImage, time.Since(t0).Round(time.Second))
	}
	if st.Postgres() {
		// Planner statistics, as autovacuum keeps them on a production
		// server (the test server runs with autovacuum off).
		if _, err := st.Pool().Exec(ctx, "ANALYZE findings, images, repositories, tags, ci_runs, running_images, registries, evaluations, ui_image_rollup, ui_image_vulns, ui_vuln_images, ui_open_delta"); err != nil {
			log.Fatal(err)
		}
	}
	token, err := st.CreateToken(ctx, "bench", store.ScopeAdmin)
	if err != nil {
		log.Fatal(err)
	}
	h, err := web.New(web.NewStoreBackend(st, nil, nil, nil), web.Options{})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := signIn(srv.URL, token)

	// Targets: the first registry, a repository, an image, a finding.
	body := get(c, srv.URL+"/registries")
	reg := first(body, `href="(/registries/[^"/]+)"`)
	body = get(c, srv.URL+reg)
	repo := first(body, `href="(/registries/[^"]+/repositories/[^"]+)"`)
	body = get(c, srv.URL+repo)
	img := first(body, `href="(/images/sha256:[0-9a-f]+)"`)
	body = get(c, srv.URL+img)
	fnd := first(body, `href="(/images/sha256:[0-9a-f]+/findings/[0-9]+)"`)
	vid := first(body, `/findings/[0-9]+">([A-Z]+-[0-9-]+)<`)
	next := strings.ReplaceAll(first(body, `href="([^"]+)" rel="next"`), "&amp;", "&")
	digest := strings.TrimPrefix(img, "/images/")

	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"registries", "/registries"},
		{"registry", reg},
		{"repository", repo},
		{"image (findings, default sort)", img},
		{"image sorted by CVSS, HIGH only", img + "?severity=HIGH&sort=cvss&dir=desc"},
		{"image page 2", next},
		{"finding details", fnd},
		{"search CVE id", "/search?q=" + url.QueryEscape(vid)},
		{"search package", "/search?q=pkg-7"},
		{"search digest", "/search?q=" + url.QueryEscape(digest[:20])},
		{"remediation", "/remediation"},
	}
	// The first overview after start is reported apart: nothing is cached
	// in the process, so it must meet the target too.
	fmt.Printf("load average at start: %s\n", loadavg())
	t0 := time.Now()
	get(c, srv.URL+"/")
	fmt.Printf("overview, first request after start: %s\n", ms(time.Since(t0)))
	// cpu/req is this process's CPU time per request (server, client and,
	// on SQLite, the database): unlike the wall-clock percentiles it hardly
	// moves with the machine's load.
	fmt.Printf("%-34s %8s %8s %8s %9s %9s\n", "page", "p50", "p95", "max", "cpu/req", "bytes")
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, p := range pages {
		if !strings.Contains(p.name, *only) {
			continue
		}
		var ds []time.Duration
		size := 0
		cpu0 := cpuTime()
		for range *requests {
			t0 := time.Now()
			b := get(c, srv.URL+p.path)
			ds = append(ds, time.Since(t0))
			size = len(b)
		}
		slices.Sort(ds)
		cpu := (cpuTime() - cpu0) / time.Duration(*requests)
		fmt.Printf("%-34s %8s %8s %8s %9s %9d\n", p.name, ms(ds[len(ds)/2]), ms(ds[len(ds)*95/100]), ms(ds[len(ds)-1]), ms(cpu), size)
	}
	fmt.Printf("load average at the end: %s\n", loadavg())
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func first(body, re string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(body)
	if m == nil {
		log.Fatalf("no match for %s", re)
	}
	return m[1]
}

func signIn(base, token string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	return c
}

func get(c *http.Client, u string) string {
	resp, err := c.Get(u)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		log.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}

var severities = []string{"CRITICAL", "HIGH", "HIGH", "MEDIUM", "MEDIUM", "MEDIUM", "LOW", "LOW", "UNKNOWN"}

// seed records n images (push events) and an evaluation of each with
// perImage generated findings, through the store's API.
func seed(ctx context.Context, st *store.Store, tenant int64, n, offset, perImage, repos int) error {
	reg, err := st.CreateRegistry(ctx, tenant, store.NewRegistry{Name: fmt.Sprintf("registry-%d", offset), URL: fmt.Sprintf("https://r%d.example.com", offset)})
	if err != nil {
		return err
	}
	rnd := rand.New(rand.NewPCG(1, uint64(offset)))
	start := time.Now().Add(-45 * 24 * time.Hour)
	for i := range n {
		k := offset + i
		digest := fmt.Sprintf("sha256:%064x", uint64(k)*2654435761+1)
		at := start.Add(time.Duration(k) * time.Minute)
		res, err := st.RecordEvents(ctx, []store.ImageEvent{{TenantID: tenant, RegistryID: reg.ID, Repository: fmt.Sprintf("team-%d/app-%d", k%repos/20, k%repos),
			Digest: digest, Tag: fmt.Sprintf("v%d", k/repos), Action: store.ActionPush, At: at}})
		if err != nil {
			return err
		}
		fs := make([]vuln.Finding, 0, perImage)
		for j := range perImage {
			v := rnd.IntN(20000)
			sev := severities[v%len(severities)]
			f := vuln.Finding{
				ID: fmt.Sprintf("CVE-20%02d-%05d", 15+v%10, v), Title: "generated finding for the load test",
				Package:  vuln.PackageRef{Name: fmt.Sprintf("pkg-%d", v%3000), Version: "1.0." + fmt.Sprint(j), Type: "deb", Ecosystem: "Debian:12", PURL: "pkg:deb/debian/x"},
				FixState: vuln.FixStateNotFixed, Severity: sev, SeveritySource: "nvd",
				CVSS:  []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: float64(v%100) / 10, Source: "nvd"}},
				Layer: &inventory.LayerRef{Index: j % 4, DiffID: "sha256:" + strings.Repeat("ab", 32), CreatedBy: "RUN apt-get install -y pkg", Base: j%4 < 2},
			}
			if v%3 == 0 {
				f.FixState, f.FixedVersions = vuln.FixStateFixed, []string{"1.1.0"}
			}
			if v%97 == 0 {
				f.KEV = &vuln.KEV{DateAdded: "2024-01-01"}
			}
			if v%5 == 0 {
				f.EPSS = &vuln.EPSS{Score: float64(v%1000) / 1000, Percentile: 0.5}
			}
			fs = append(fs, f)
		}
		if _, err := st.ApplyEvaluation(ctx, store.Evaluation{ImageID: res[0].ImageID, Kind: "scan", DBBuilt: start, Findings: fs}); err != nil {
			return err
		}
		if i%1000 == 999 {
			log.Printf("seeded %d images", i+1)
		}
	}
	return nil
}
