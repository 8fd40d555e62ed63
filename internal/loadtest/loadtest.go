// Package loadtest stores generated images for the service's load tests
// and benchmarks only (internal/server's benchmarks, bench/serve): each
// image has 300 packages: 250 apk packages in an Alpine 3.10 base layer all
// images share (a few real vulnerable versions among them, matched against
// the corpus secdb) and 50 npm packages in a layer of its own (an
// application's dependencies), stored through the store's own write path.
package loadtest

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

// Images is what Seed stored.
type Images struct {
	TenantID int64
	IDs      []int64
	Digests  []string
}

// Seed stores n scanned images for tenant "bench" in a new registry.
// osRelease is the base layer's /etc/os-release (an Alpine 3.10 one from
// the corpus).
func Seed(ctx context.Context, st *store.Store, n int, osReleasePath string) (Images, error) {
	var out Images
	osRelease, err := os.ReadFile(osReleasePath)
	if err != nil {
		return out, err
	}
	t, err := st.EnsureTenant(ctx, "bench")
	if err != nil {
		return out, err
	}
	out.TenantID = t.ID
	reg, err := st.CreateRegistry(ctx, t.ID, store.NewRegistry{Name: fmt.Sprintf("seed-%d", len(out.IDs)), URL: "http://127.0.0.1:1"})
	if err != nil {
		return out, err
	}
	base := &inventory.LayerResult{DiffID: "sha256:" + strings.Repeat("b", 64), Packages: packages("base", 250), Files: map[string][]byte{"etc/os-release": osRelease}}
	_, fp := jobs.DefaultAnalyzers()
	for i := 0; i < n; i++ {
		digest := fmt.Sprintf("sha256:%064x", i+1)
		res, err := st.RecordEvents(ctx, []store.ImageEvent{{TenantID: t.ID, RegistryID: reg.ID, Repository: fmt.Sprintf("team/app%d", i%100), Digest: digest, Tag: fmt.Sprintf("v%d", i), Action: store.ActionPush}})
		if err != nil {
			return out, err
		}
		own := &inventory.LayerResult{DiffID: fmt.Sprintf("sha256:%064x", 1<<40+i), Packages: appPackages(i, 50)}
		art := inventory.Artifact{Name: digest, Digest: digest, Layers: []inventory.Layer{{Index: 0, DiffID: base.DiffID, Base: true}, {Index: 1, DiffID: own.DiffID}}}
		if err := st.SaveScan(ctx, []int64{res[0].ImageID}, store.ScanRecord{Analyzer: fp, Artifact: art, Layers: []*inventory.LayerResult{base, own}}); err != nil {
			return out, err
		}
		out.IDs = append(out.IDs, res[0].ImageID)
		out.Digests = append(out.Digests, digest)
	}
	return out, nil
}

// packages makes k apk packages (one apk database: a later layer's would
// replace it); the base layer starts with real vulnerable Alpine 3.10
// versions (busybox, sqlite-libs, musl, openssl).
func packages(prefix string, k int) []inventory.Package {
	out := make([]inventory.Package, 0, k)
	for _, p := range [][2]string{{"busybox", "1.24.2-r9"}, {"sqlite-libs", "3.26.0-r3"}, {"musl", "1.1.14-r10"}, {"openssl", "1.0.2n-r0"}} {
		out = append(out, inventory.Package{Name: p[0], Version: p[1], Type: inventory.TypeApk, Path: "lib/apk/db/installed"})
	}
	for i := len(out); i < k; i++ {
		out = append(out, inventory.Package{Name: fmt.Sprintf("%s-pkg-%d", prefix, i), Version: "1.0-r0", Type: inventory.TypeApk, Path: "lib/apk/db/installed"})
	}
	return out
}

// appPackages makes image i's k npm packages, each in its package.json.
func appPackages(i, k int) []inventory.Package {
	out := make([]inventory.Package, 0, k)
	for j := 0; j < k; j++ {
		name := fmt.Sprintf("app%d-dep-%d", i, j)
		out = append(out, inventory.Package{Name: name, Version: "1.0.0", Type: inventory.TypeNPM, Path: "app/node_modules/" + name + "/package.json"})
	}
	return out
}
