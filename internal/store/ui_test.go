package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// The web UI's store queries (ui_*.go) run against a real SQLite file and
// a real PostgreSQL (a fresh schema per test, dropped afterwards).

const testPGURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// eachBackend runs fn on SQLite and on PostgreSQL. PostgreSQL is skipped
// when it is not reachable, except under CI=true where that fails.
func eachBackend(t *testing.T, fn func(t *testing.T, st *Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenTestStore(t, "sqlite")) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenTestStore(t, "postgres")) })
}

// OpenTestStore opens an empty store on "sqlite" (in t.TempDir) or
// "postgres" (a schema of its own on 127.0.0.1:5432, dropped at the end).
func OpenTestStore(t testing.TB, backend string) *Store {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := LoadKeyring("", dir)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{DataDir: dir, Keys: keys}
	if backend == "postgres" {
		conn, err := pgx.Connect(ctx, testPGURL)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("PostgreSQL at %s: %v", testPGURL, err)
			}
			t.Skipf("no PostgreSQL at %s: %v", testPGURL, err)
		}
		conn.Close(ctx)
		b := make([]byte, 6)
		rand.Read(b)
		opts.URL, opts.Schema = testPGURL, "vigil_test_"+hex.EncodeToString(b)
		t.Cleanup(func() {
			if c, err := pgx.Connect(context.Background(), testPGURL); err == nil {
				c.Exec(context.Background(), "DROP SCHEMA "+opts.Schema+" CASCADE")
				c.Close(context.Background())
			}
		})
	}
	st, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fixture seeds tenants, registries, images and findings through the
// store's own write API. The findings are a small hand-made set: these
// tests are about the queries' edge cases (wildcards, cursors, tenants),
// not about vulnerability data.
type fixture struct {
	t   *testing.T
	st  *Store
	ctx context.Context
}

func (f fixture) tenant(name string) int64 {
	f.t.Helper()
	tn, err := f.st.EnsureTenant(f.ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return tn.ID
}

func (f fixture) registry(tenant int64, name string) string {
	f.t.Helper()
	r, err := f.st.CreateRegistry(f.ctx, tenant, NewRegistry{Name: name, URL: "https://" + name + ".example.com"})
	if err != nil {
		f.t.Fatal(err)
	}
	return r.ID
}

func testDigest(n int) string { return fmt.Sprintf("sha256:%064x", n) }

// push records a push of repo:tag@digest and returns the image id.
func (f fixture) push(tenant int64, reg, repo, tag, digest string) int64 {
	f.t.Helper()
	res, err := f.st.RecordEvents(f.ctx, []ImageEvent{{TenantID: tenant, RegistryID: reg, Repository: repo, Digest: digest, Tag: tag, Action: ActionPush}})
	if err != nil {
		f.t.Fatal(err)
	}
	return res[0].ImageID
}

// stored records a scan of the images (an empty inventory), as a registry
// scan does before evaluating: re-evaluations match stored inventories.
func (f fixture) stored(ids ...int64) {
	f.t.Helper()
	if err := f.st.SaveScan(f.ctx, ids, ScanRecord{Analyzer: "test", Artifact: inventory.Artifact{Name: "test"}}); err != nil {
		f.t.Fatal(err)
	}
}

func (f fixture) del(tenant int64, reg, repo, digest string) {
	f.t.Helper()
	if _, err := f.st.RecordEvents(f.ctx, []ImageEvent{{TenantID: tenant, RegistryID: reg, Repository: repo, Digest: digest, Action: ActionDelete}}); err != nil {
		f.t.Fatal(err)
	}
}

func (f fixture) evaluate(image int64, fs ...vuln.Finding) {
	f.t.Helper()
	if _, err := f.st.ApplyEvaluation(f.ctx, Evaluation{ImageID: image, Kind: "scan", Findings: fs}); err != nil {
		f.t.Fatal(err)
	}
}

// fnd is a finding of id in pkg; opts: "fix", "kev", "suppressed".
func fnd(id, pkg, sev string, opts ...string) vuln.Finding {
	f := vuln.Finding{ID: id, Package: vuln.PackageRef{Name: pkg, Version: "1.0", Type: "apk"}, Severity: sev, FixState: vuln.FixStateNotFixed}
	for _, o := range opts {
		switch o {
		case "fix":
			f.FixState, f.FixedVersions = vuln.FixStateFixed, []string{"1.1"}
		case "kev":
			f.KEV = &vuln.KEV{DateAdded: "2024-01-01"}
		case "suppressed":
			f.Suppressed = &vuln.Suppression{Kind: "policy", Rule: ".vigil.yaml:3", Reason: "not reachable"}
		}
	}
	return f
}

// bruteAggregates computes what the rollups must hold from the findings.
func bruteAggregates(t *testing.T, st *Store, tenant int64) (fix, kev Counts, top map[string]int) {
	t.Helper()
	rows, err := st.query(context.Background(), `SELECT f.vuln_id, f.severity, f.fixable, f.data, f.image_id FROM findings f JOIN images i ON i.id = f.image_id
		WHERE i.tenant_id = ? AND i.deleted_at IS NULL AND f.state = 'open'`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	images := map[string]map[int64]bool{}
	for rows.Next() {
		var id, sev, data string
		var fx int
		var img int64
		if err := rows.Scan(&id, &sev, &fx, &data, &img); err != nil {
			t.Fatal(err)
		}
		if fx == 1 {
			fix = fix.addSeverity(sev)
		}
		if strings.Contains(data, `"kev":{`) {
			kev = kev.addSeverity(sev)
		}
		if images[id] == nil {
			images[id] = map[int64]bool{}
		}
		images[id][img] = true
	}
	top = map[string]int{}
	for id, m := range images {
		top[id] = len(m)
	}
	return fix, kev, top
}

func checkAggregates(t *testing.T, st *Store, tenant int64, step string) OpenAggregates {
	t.Helper()
	sum, err := st.Summary(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	agg, err := st.OpenAggregates(context.Background(), tenant, 100, 30)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if agg.Open != sum.Counts || agg.Images != sum.Images {
		t.Errorf("%s: open %+v in %d images, want %+v in %d", step, agg.Open, agg.Images, sum.Counts, sum.Images)
	}
	regs, err := st.Registries(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range regs {
		if c := agg.ByRegistry[r.ID]; c.Images != r.Images || c.Unhealthy != r.Unhealthy || c.Counts != r.Counts {
			t.Errorf("%s: registry %s counts %+v, want %+v", step, r.Name, c, r)
		}
	}
	fix, kev, top := bruteAggregates(t, st, tenant)
	if agg.Fixable != fix || agg.KEV != kev {
		t.Errorf("%s: fixable %+v kev %+v, want %+v %+v", step, agg.Fixable, agg.KEV, fix, kev)
	}
	got := map[string]int{}
	for _, v := range agg.Top {
		got[v.ID] = v.Images
	}
	if fmt.Sprint(got) != fmt.Sprint(top) {
		t.Errorf("%s: top vulnerabilities %v, want %v", step, got, top)
	}
	if len(agg.Trend) != 30 || agg.Trend[29].Open != sum.Counts.Total() {
		t.Errorf("%s: trend ends at %+v, want %d open today", step, agg.Trend[len(agg.Trend)-1:], sum.Counts.Total())
	}
	return agg
}

func TestUIRollups(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		day := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		now := day
		st.SetClock(func() time.Time { return now })
		a, b := f.tenant("acme"), f.tenant("other")
		ra, rb := f.registry(a, "main"), f.registry(b, "theirs")

		// Day 0: image 1 with three open findings (two in one
		// vulnerability), one suppressed.
		i1 := f.push(a, ra, "shop/app", "1.0", testDigest(1))
		f.evaluate(i1, fnd("CVE-2021-3711", "libssl", "CRITICAL", "fix", "kev"), fnd("CVE-2021-3711", "libcrypto", "CRITICAL", "fix", "kev"),
			fnd("CVE-2022-0001", "musl", "HIGH"), fnd("CVE-2022-0002", "zlib", "LOW", "suppressed"))
		// The other tenant's findings never count for acme.
		ib := f.push(b, rb, "secret/app", "1", testDigest(99))
		f.evaluate(ib, fnd("CVE-2099-0001", "x", "CRITICAL", "fix", "kev"))
		checkAggregates(t, st, a, "first image")

		// Day 2: image 2 shares a vulnerability with image 1.
		now = day.Add(2 * 24 * time.Hour)
		i2 := f.push(a, ra, "shop/api", "2.0", testDigest(2))
		f.evaluate(i2, fnd("CVE-2021-3711", "libssl", "HIGH"), fnd("CVE-2023-0003", "curl", "MEDIUM", "fix"))
		agg := checkAggregates(t, st, a, "second image")
		if agg.Top[0].ID != "CVE-2021-3711" || agg.Top[0].Images != 2 || agg.Top[0].Severity != "critical" {
			t.Errorf("top vulnerability = %+v", agg.Top[0])
		}

		// Day 3: a re-evaluation fixes one finding of image 1.
		now = day.Add(3 * 24 * time.Hour)
		f.evaluate(i1, fnd("CVE-2021-3711", "libssl", "CRITICAL", "fix", "kev"), fnd("CVE-2021-3711", "libcrypto", "CRITICAL", "fix", "kev"),
			fnd("CVE-2022-0002", "zlib", "LOW", "suppressed"))
		checkAggregates(t, st, a, "re-evaluation")

		// Day 4: image 2 is deleted (only images.deleted_at changes), then
		// the tag of image 1 moves to image 3, which lacks CVE-2021-3711
		// in libssl: image 1's finding is resolved as replaced.
		now = day.Add(4 * 24 * time.Hour)
		f.del(a, ra, "shop/api", testDigest(2))
		checkAggregates(t, st, a, "deletion")
		i3 := f.push(a, ra, "shop/app", "1.0", testDigest(3))
		f.evaluate(i3, fnd("CVE-2021-3711", "libcrypto", "CRITICAL", "fix"))
		agg = checkAggregates(t, st, a, "replacement")

		// The trend: 3 open from day 0, 5 from day 2, 4 from day 3, and on
		// day 4 image 2's 2 gone, image 1's libssl replaced, image 3's 1 new.
		want := map[int]int{29: 2, 28: 4, 27: 5, 26: 3, 25: 3, 24: 0}
		for back, n := range want {
			if got := agg.Trend[back].Open; got != n {
				t.Errorf("trend %s = %d, want %d", agg.Trend[back].Day.Format(time.DateOnly), got, n)
			}
		}
		if !agg.Trend[29].Day.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("trend ends on %s", agg.Trend[29].Day)
		}

		// A restore (push again) counts the image again.
		f.push(a, ra, "shop/api", "2.1", testDigest(2))
		checkAggregates(t, st, a, "restore")
		checkAggregates(t, st, b, "other tenant")
	})
}

// TestUIRollupsCatchUp covers images evaluated before the rollups existed
// (an upgraded database): the first overview builds theirs, dated by when
// each finding was first seen.
func TestUIRollupsCatchUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		a := f.tenant("acme")
		ra := f.registry(a, "main")
		i1 := f.push(a, ra, "shop/app", "1.0", testDigest(1))
		f.evaluate(i1, fnd("CVE-2021-3711", "libssl", "CRITICAL", "fix", "kev"), fnd("CVE-2022-0001", "musl", "HIGH"))
		for _, q := range []string{"DELETE FROM ui_image_rollup", "DELETE FROM ui_image_vulns", "DELETE FROM ui_vuln_images", "DELETE FROM ui_open_delta"} {
			if _, err := st.exec(f.ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		agg := checkAggregates(t, st, a, "catch-up")
		if agg.Trend[28].Open != 0 || agg.Trend[29].Open != 2 {
			t.Errorf("catch-up trend = %+v", agg.Trend[27:])
		}
	})
}

func TestSearchImages(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		a, b := f.tenant("acme"), f.tenant("other")
		ra, ra2, rb := f.registry(a, "main"), f.registry(a, "mirror"), f.registry(b, "theirs")
		imgs := map[string]int64{}
		for i, ref := range []string{"shop/app:1.0", "shop/app:1.1", "shop_x/app:2", "shopa/app:3", "100%/pct:1", `back\slash/x:1`, "tools/cli:latest"} {
			repo, tag, _ := strings.Cut(ref, ":")
			reg := ra
			if i == 6 {
				reg = ra2
			}
			imgs[ref] = f.push(a, reg, repo, tag, testDigest(i+1))
		}
		f.evaluate(imgs["shop/app:1.0"], fnd("CVE-2021-3711", "libssl", "CRITICAL"))
		f.evaluate(imgs["tools/cli:latest"], fnd("CVE-2022-0001", "musl", "LOW"))
		if err := st.ReplaceRunning(f.ctx, a, "prod", []RunningImage{{Namespace: "shop", Workload: "app", Container: "app", Image: "shop/app:1.0", Digest: testDigest(1)}}); err != nil {
			t.Fatal(err)
		}
		f.push(b, rb, "shop/app", "1.0", testDigest(50))

		refs := func(p Page[Image]) []string {
			var out []string
			for _, im := range p.Items {
				out = append(out, im.Repository+":"+strings.Join(im.Tags, ","))
			}
			slices.Sort(out)
			return out
		}
		for _, tc := range []struct {
			name string
			q    ImageSearch
			want []string
		}{
			{"substring", ImageSearch{Text: "shop"}, []string{"shop/app:1.0", "shop/app:1.1", "shop_x/app:2", "shopa/app:3"}},
			{"underscore is literal", ImageSearch{Text: "shop_"}, []string{"shop_x/app:2"}},
			{"percent is literal", ImageSearch{Text: "100%"}, []string{"100%/pct:1"}},
			{"percent alone matches only itself", ImageSearch{Text: "%"}, []string{"100%/pct:1"}},
			{"backslash is literal", ImageSearch{Text: `back\s`}, []string{`back\slash/x:1`}},
			{"reference with host and tag", ImageSearch{Text: "registry.example.com/shop/app:1.1"}, []string{"shop/app:1.1"}},
			{"tag substring", ImageSearch{Text: "lates"}, []string{"tools/cli:latest"}},
			{"full digest", ImageSearch{Text: testDigest(3)}, []string{"shop_x/app:2"}},
			{"registry", ImageSearch{RegistryID: ra2}, []string{"tools/cli:latest"}},
			{"repository exact", ImageSearch{Repository: "shop/app"}, []string{"shop/app:1.0", "shop/app:1.1"}},
			{"severity", ImageSearch{Severity: "critical"}, []string{"shop/app:1.0"}},
			{"severity low", ImageSearch{Severity: "low"}, []string{"tools/cli:latest"}},
			{"running", ImageSearch{Running: true}, []string{"shop/app:1.0"}},
			{"vulnerability", ImageSearch{VulnID: "CVE-2021-3711"}, []string{"shop/app:1.0"}},
			{"vulnerability and repository", ImageSearch{VulnID: "CVE-2022-0001", Repository: "shop/app"}, nil},
			{"repository in a registry", ImageSearch{RegistryID: ra, Repository: "tools/cli"}, nil},
			{"hex text matches digests", ImageSearch{Text: "0000000000000000000000000000000000000000000000000000000000007"}, []string{"tools/cli:latest"}},
			{"another tenant's registry", ImageSearch{RegistryID: rb}, nil},
		} {
			p, err := st.SearchImages(f.ctx, a, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := refs(p); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
		// The digest prefix matches: every test digest starts with zeros.
		if p, _ := st.SearchImages(f.ctx, a, ImageSearch{Text: testDigest(3)[:20]}); len(p.Items) != 7 {
			t.Errorf("digest prefix matched %d images, want 7", len(p.Items))
		}
		if _, err := st.SearchImages(f.ctx, a, ImageSearch{Severity: "'; DROP TABLE images; --"}); err == nil {
			t.Error("a bad severity was accepted")
		}
		if _, err := st.SearchImages(f.ctx, a, ImageSearch{PageToken: "garbage"}); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("bad page token: %v", err)
		}
		// Pagination: pages of 3, newest first, without overlap or gaps.
		var seen []int64
		tok := ""
		for range 10 {
			p, err := st.SearchImages(f.ctx, a, ImageSearch{Limit: 3, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range p.Items {
				seen = append(seen, im.ID)
			}
			if tok = p.NextPageToken; tok == "" {
				break
			}
		}
		if len(seen) != 7 || !slices.IsSortedFunc(seen, func(x, y int64) int { return int(y - x) }) {
			t.Errorf("paged ids = %v, want 7 newest first", seen)
		}
	})
}

func TestUIFindingReads(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		a, b := f.tenant("acme"), f.tenant("other")
		ra, rb := f.registry(a, "main"), f.registry(b, "theirs")
		var ids []int64
		for i := range 5 {
			id := f.push(a, ra, fmt.Sprintf("team/app-%d", i), "1", testDigest(i+1))
			ids = append(ids, id)
			f.evaluate(id, fnd("CVE-2021-3711", "libssl", "HIGH", "fix"), fnd(fmt.Sprintf("CVE-2020-%04d", i), "musl", "LOW"), fnd("CVE-2024-9999", "zlib", "MEDIUM", "suppressed"))
		}
		ib := f.push(b, rb, "secret/app", "1", testDigest(99))
		f.evaluate(ib, fnd("CVE-2021-3711", "libssl", "CRITICAL"))
		f.del(a, ra, "team/app-4", testDigest(5))

		rows, err := st.ImageFindingRows(f.ctx, a, testDigest(1))
		if err != nil || len(rows) != 3 {
			t.Fatalf("image findings = %d, %v; want 3 (all states)", len(rows), err)
		}
		if _, err := st.ImageFindingRows(f.ctx, a, testDigest(99)); !errors.Is(err, ErrNotFound) {
			t.Errorf("another tenant's image findings: %v, want ErrNotFound", err)
		}
		r, err := st.FindingByID(f.ctx, a, testDigest(1), rows[0].ID)
		if err != nil || r.Finding.ID != rows[0].Finding.ID || r.Repository != "team/app-0" {
			t.Errorf("FindingByID = %+v, %v", r, err)
		}
		theirs, _ := st.ImageFindingRows(f.ctx, b, testDigest(99))
		for _, tc := range []struct {
			name   string
			digest string
			id     int64
		}{{"another tenant's finding", testDigest(99), theirs[0].ID}, {"another tenant's id under my digest", testDigest(1), theirs[0].ID},
			{"another image's finding", testDigest(2), rows[0].ID}, {"missing", testDigest(1), 1 << 40}} {
			if _, err := st.FindingByID(f.ctx, a, tc.digest, tc.id); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", tc.name, err)
			}
		}

		// Open findings of one vulnerability: live images of this tenant
		// only, paged newest first.
		var got []string
		tok := ""
		for range 10 {
			p, err := st.OpenFindingsOf(f.ctx, a, "CVE-2021-3711", "", tok, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Items {
				got = append(got, r.Repository)
			}
			if tok = p.NextPageToken; tok == "" {
				break
			}
		}
		if want := []string{"team/app-3", "team/app-2", "team/app-1", "team/app-0"}; !slices.Equal(got, want) {
			t.Errorf("open findings of CVE-2021-3711 = %v, want %v", got, want)
		}
		if p, _ := st.OpenFindingsOf(f.ctx, a, "", "musl", "", 50); len(p.Items) != 4 {
			t.Errorf("open findings in musl = %d, want 4", len(p.Items))
		}
		if p, _ := st.OpenFindingsOf(f.ctx, a, "CVE-2024-9999", "", "", 50); len(p.Items) != 0 {
			t.Errorf("suppressed findings listed as open: %d", len(p.Items))
		}
		if _, err := st.OpenFindingsOf(f.ctx, a, "CVE-2021-3711", "", "x", 2); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("bad page token: %v", err)
		}

		others, err := st.ImagesWithVuln(f.ctx, a, "CVE-2021-3711", 10)
		if err != nil || len(others) != 4 {
			t.Errorf("images with CVE-2021-3711 = %d, %v; want 4", len(others), err)
		}
		mv, err := st.MostVulnerable(f.ctx, a, 2)
		if err != nil || len(mv) != 2 || mv[0].ID != ids[3] {
			t.Errorf("most vulnerable = %+v, %v", mv, err)
		}
		names, err := st.RegistryNames(f.ctx, a)
		if err != nil || len(names) != 1 || names[ra] != "main" {
			t.Errorf("registry names = %v, %v", names, err)
		}
		if err := st.ReplaceRunning(f.ctx, a, "prod", []RunningImage{{Image: "team/app-0:1", Digest: testDigest(1)}, {Image: "x", Digest: testDigest(99)}}); err != nil {
			t.Fatal(err)
		}
		if c, err := st.RunningCounts(f.ctx, a); err != nil || c != (Counts{High: 1, Low: 1}) {
			t.Errorf("running counts = %+v, %v", c, err)
		}
	})
}

func TestResolutions(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		st.SetClock(func() time.Time { return now })
		a, b := f.tenant("acme"), f.tenant("other")
		ra, rb := f.registry(a, "main"), f.registry(b, "theirs")
		i1 := f.push(a, ra, "shop/app", "1", testDigest(1))
		f.evaluate(i1, fnd("CVE-1", "a", "HIGH"), fnd("CVE-2", "b", "LOW"), fnd("CVE-3", "c", "LOW"))
		now = now.Add(time.Hour)
		f.evaluate(i1, fnd("CVE-3", "c", "LOW")) // CVE-1 and CVE-2 fixed
		now = now.Add(time.Hour)
		i2 := f.push(a, ra, "shop/app", "1", testDigest(2)) // the tag moves
		f.evaluate(i2)                                      // CVE-3 replaced
		now = now.Add(time.Hour)
		f.del(a, ra, "shop/app", testDigest(2))
		ib := f.push(b, rb, "secret/app", "1", testDigest(99))
		f.evaluate(ib, fnd("CVE-9", "z", "HIGH"))
		f.evaluate(ib)
		f.del(b, rb, "secret/app", testDigest(99))

		list := func(kind string, limit int) []string {
			var out []string
			tok := ""
			for range 10 {
				p, err := st.Resolutions(f.ctx, a, kind, tok, limit)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range p.Items {
					out = append(out, r.Kind+":"+r.VulnID+r.Digest[len(r.Digest)-1:])
				}
				if tok = p.NextPageToken; tok == "" {
					break
				}
			}
			return out
		}
		if got, want := list("", 1), []string{"replaced:CVE-31", "fixed:CVE-21", "fixed:CVE-11"}; !slices.Equal(got, want) &&
			!slices.Equal(got, []string{"replaced:CVE-31", "fixed:CVE-11", "fixed:CVE-21"}) {
			t.Errorf("resolutions = %v, want %v", got, want)
		}
		if got := list(StateFixed, 5); len(got) != 2 {
			t.Errorf("fixed = %v", got)
		}
		if got := list(StateReplaced, 5); len(got) != 1 {
			t.Errorf("replaced = %v", got)
		}
		if got := list("deleted", 5); !slices.Equal(got, []string{"deleted:2"}) {
			t.Errorf("deleted = %v", got)
		}
		for _, tok := range []string{"x", "1-", "-1", "1-x"} {
			if _, err := st.Resolutions(f.ctx, a, "", tok, 5); !errors.Is(err, ErrBadPageToken) {
				t.Errorf("token %q: %v", tok, err)
			}
		}
	})
}

func TestExceptions(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		st.SetClock(func() time.Time { return now })
		a, b := f.tenant("acme"), f.tenant("other")
		ra := f.registry(a, "main")
		i1 := f.push(a, ra, "shop/app", "1", testDigest(1))
		f.evaluate(i1, fnd("CVE-2021-3711", "libssl", "HIGH"))
		i2 := f.push(a, ra, "shop/api", "1", testDigest(2))
		f.evaluate(i2, fnd("CVE-2022-0001", "musl", "LOW"))
		f.stored(i1, i2)
		// A CI-only image has no stored inventory to match again: it is not
		// re-evaluated (it gets the rule at its next publish).
		_, ci, _, err := st.RecordCIRun(f.ctx, a, CIRunInput{IdempotencyKey: "k", Digest: testDigest(3), Repository: "tools/cli", Provider: "gitlab-ci", Report: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		f.evaluate(ci, fnd("CVE-2021-3711", "libssl", "HIGH"))
		if err := st.SetTenantPolicy(f.ctx, a, "# team policy\nversion: 1\n"); err != nil {
			t.Fatal(err)
		}
		p := Principal{TokenID: "tok_1", TenantID: a, Tenant: "acme", Scope: ScopeAdmin}

		e, ids, err := st.CreateException(f.ctx, p, Exception{VulnID: "cve-2021-3711", Reason: `not "reachable": <b>`, Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, []int64{i1}) || e.ID == 0 || e.CreatedBy != "tok_1" {
			t.Errorf("exception %+v re-evaluates %v, want [%d]", e, ids, i1)
		}
		tn, _ := st.Tenant(f.ctx, a)
		if !strings.Contains(tn.Policy, "# team policy") || !strings.Contains(tn.Policy, `id: "cve-2021-3711"`) || !strings.Contains(tn.Policy, `expires: "2027-01-31"`) {
			t.Errorf("policy = %q", tn.Policy)
		}
		// A package-only rule re-evaluates every scanned image.
		if _, ids, err := st.CreateException(f.ctx, p, Exception{Package: "mus*", Reason: "vendored"}); err != nil || len(ids) != 2 {
			t.Errorf("package exception re-evaluates %v, %v", ids, err)
		}
		// The .vigil.yaml rules refuse a rule without a reason; nothing is stored.
		if _, _, err := st.CreateException(f.ctx, p, Exception{VulnID: "CVE-1"}); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("exception without a reason: %v", err)
		}
		es, err := st.Exceptions(f.ctx, a)
		if err != nil || len(es) != 2 || es[0].Package != "mus*" || es[1].AppliedAt != nil {
			t.Fatalf("exceptions = %+v, %v", es, err)
		}
		if es, _ := st.Exceptions(f.ctx, b); len(es) != 0 {
			t.Errorf("another tenant sees %d exceptions", len(es))
		}
		log, _ := st.AuditLog(f.ctx, a, 10)
		if len(log) != 2 || log[0].Action != "exception.create" {
			t.Errorf("audit log = %+v", log)
		}
		// The next evaluation applies them.
		now = now.Add(time.Minute)
		f.evaluate(i1, fnd("CVE-2021-3711", "libssl", "HIGH", "suppressed"))
		es, _ = st.Exceptions(f.ctx, a)
		if es[1].AppliedAt == nil || !es[1].AppliedAt.Equal(now) {
			t.Errorf("applied at = %v, want %v", es[1].AppliedAt, now)
		}
		// A policy that is not a mapping is refused, not overwritten.
		if err := st.SetTenantPolicy(f.ctx, b, "- a list\n"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.CreateException(f.ctx, Principal{TenantID: b, TokenID: "t"}, Exception{VulnID: "CVE-1", Reason: "x"}); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("exception on a list policy: %v", err)
		}
	})
}

func TestUISessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		st.SetClock(func() time.Time { return now })
		tok, err := st.CreateToken(ctx, "acme", ScopeAdmin)
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUISession(ctx, "h1", p.TokenID, "csrf-1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUISession(ctx, "h1", p.TokenID, "csrf-2", now.Add(time.Hour)); err == nil {
			t.Error("a second session with the same id hash was stored")
		}
		u, err := st.UISession(ctx, "h1")
		if err != nil || u.Principal != p || u.CSRF != "csrf-1" {
			t.Fatalf("session = %+v, %v; want %+v", u, err, p)
		}
		if _, err := st.UISession(ctx, "h2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown session: %v", err)
		}
		// A session whose token is gone ends with it.
		if err := st.CreateUISession(ctx, "h3", "tok_gone", "c", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UISession(ctx, "h3"); !errors.Is(err, ErrNotFound) {
			t.Errorf("session of a missing token: %v", err)
		}
		if err := st.DeleteUISession(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UISession(ctx, "h1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted session: %v", err)
		}
		// Expiry, and expired rows are dropped when the next session starts.
		if err := st.CreateUISession(ctx, "h4", p.TokenID, "c", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if _, err := st.UISession(ctx, "h4"); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired session: %v", err)
		}
		if err := st.CreateUISession(ctx, "h5", p.TokenID, "c", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := st.queryRow(ctx, "SELECT COUNT(*) FROM ui_sessions").Scan(&n); err != nil || n != 1 {
			t.Errorf("%d sessions stored after the sweep, want 1 (%v)", n, err)
		}
	})
}

func TestCIOnlyRegistry(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		a, b := f.tenant("acme"), f.tenant("other")
		ra := f.registry(a, "main")
		f.push(a, ra, "shop/app", "1", testDigest(1))
		_, ci, _, err := st.RecordCIRun(f.ctx, a, CIRunInput{IdempotencyKey: "k", Digest: testDigest(2), Repository: "tools/cli", Provider: "gitlab-ci", Report: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		f.evaluate(ci, fnd("CVE-2022-0001", "zlib", "MEDIUM"))
		r, err := st.RegistryWithCounts(f.ctx, a, CIOnlyRegistryID)
		if err != nil || r.ID != CIOnlyRegistryID || r.Images != 1 || r.Unhealthy != 1 || r.Counts != (Counts{Medium: 1}) {
			t.Errorf("CI-only registry = %+v, %v", r, err)
		}
		if r, _ := st.RegistryWithCounts(f.ctx, b, CIOnlyRegistryID); r.Images != 0 {
			t.Errorf("another tenant's CI-only registry has %d images", r.Images)
		}
		if r, err := st.RegistryWithCounts(f.ctx, a, ra); err != nil || r.Name != "main" || r.Images != 1 || r.Unhealthy != 0 {
			t.Errorf("registry = %+v, %v", r, err)
		}
		if _, err := st.RegistryWithCounts(f.ctx, b, ra); !errors.Is(err, ErrNotFound) {
			t.Errorf("another tenant's registry: %v", err)
		}
		p, err := st.SearchImages(f.ctx, a, ImageSearch{RegistryID: CIOnlyRegistryID})
		if err != nil || len(p.Items) != 1 || p.Items[0].Digest != testDigest(2) {
			t.Errorf("CI-only images = %+v, %v", p.Items, err)
		}
		repos, err := st.Repositories(f.ctx, a, RepositoryFilter{RegistryID: CIOnlyRegistryID})
		if err != nil || len(repos.Items) != 1 || repos.Items[0].Name != "tools/cli" {
			t.Errorf("CI-only repositories = %+v, %v", repos.Items, err)
		}
	})
}

// TestUIRollupsConcurrentBatches evaluates batches of images (each
// goroutine its own) that share vulnerabilities, from several goroutines at
// once: the tenant's shared counters must neither deadlock (PostgreSQL) nor
// lose an update.
func TestUIRollupsConcurrentBatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t, st, context.Background()}
		a := f.tenant("acme")
		ra := f.registry(a, "main")
		var ids []int64
		for i := range 8 {
			ids = append(ids, f.push(a, ra, fmt.Sprintf("team/app-%d", i), "1", testDigest(i+1)))
		}
		// The first image of a batch has the higher vulnerability ids, the
		// second the lower: taken image by image, even and odd goroutines
		// would lock the shared counters in opposite orders.
		findings := func(round, half int) []vuln.Finding {
			var fs []vuln.Finding
			for v := range 12 {
				if v/6 == half && (v+round)%3 != 0 {
					fs = append(fs, fnd(fmt.Sprintf("CVE-2024-%04d", v), "pkg", Severities[v%5], "fix"))
				}
			}
			return fs
		}
		errs := make(chan error, 4)
		for g := range 4 {
			go func() {
				var err error
				for round := range 5 {
					batch := []Evaluation{}
					for k := range 2 {
						half := 1 - k
						if g%2 == 1 {
							half = k
						}
						batch = append(batch, Evaluation{ImageID: ids[2*g+k], Kind: "daily", Findings: findings(round, half)})
					}
					if _, err = st.ApplyEvaluations(f.ctx, batch); err != nil {
						break
					}
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		checkAggregates(t, st, a, "concurrent batches")
	})
}

// The daily pass picks the scanned images pushed since the cutoff, in id
// order; unscanned and deleted images are left out.
func TestImagesForDaily(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *Store) {
		f := fixture{t: t, st: st, ctx: context.Background()}
		a := f.tenant("acme")
		reg := f.registry(a, "r")
		scanned1 := f.push(a, reg, "app", "1", testDigest(1))
		f.push(a, reg, "app", "2", testDigest(2)) // never scanned
		scanned2 := f.push(a, reg, "other", "1", testDigest(3))
		gone := f.push(a, reg, "gone", "1", testDigest(4))
		for _, id := range []int64{scanned1, scanned2, gone} {
			f.evaluate(id, fnd("CVE-2021-3711", "libssl", "HIGH"))
		}
		f.del(a, reg, "gone", testDigest(4))
		past := time.Now().Add(-time.Hour)
		got, err := st.ImagesForDaily(f.ctx, past, past)
		if err != nil || !slices.Equal(got, []int64{scanned1, scanned2}) {
			t.Errorf("ImagesForDaily = %v, %v; want [%d %d]", got, err, scanned1, scanned2)
		}
		future := time.Now().Add(time.Hour)
		if got, err := st.ImagesForDaily(f.ctx, future, future); err != nil || len(got) != 0 {
			t.Errorf("nothing pushed or pulled since the cutoff: %v, %v", got, err)
		}
	})
}
