package scan

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// corpusDB imports the corpus's Go OSV dump and Alpine secdb into a temp DB.
func corpusDB(t *testing.T) *vulndb.DB {
	t.Helper()
	cfg := config.Config{DBPath: filepath.Join(t.TempDir(), "vigil.db"), Mirror: corpus.Path(t, "feeds")}
	u := &feeds.Updater{Config: cfg, Fetcher: &feeds.Fetcher{}}
	res, err := u.Update(context.Background(), []string{"osv/Go", "alpine"})
	if err != nil || res.Failed() {
		t.Fatalf("import: %v %+v", err, res)
	}
	db, err := vulndb.Open(cfg.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rootfs is an unpacked root filesystem: Alpine 3.10 os-release and the
// corpus's go1.15.2 binary.
func rootfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin, err := os.ReadFile(corpus.Path(t, "pkgdb", "go-binary", "trivy-test.elf"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(p string, b []byte, mode os.FileMode) {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.4\n"), 0o644)
	write("usr/local/bin/app", bin, 0o755)
	return dir
}

func findingKeys(r *result.Report) []string {
	var out []string
	for _, f := range r.Vulnerabilities {
		out = append(out, f.Package.Name+"@"+f.Package.Version+" "+f.ID)
	}
	return out
}

// Concurrent scans share one Matcher and one DB and get identical results.
func TestConcurrentScansShareMatcher(t *testing.T) {
	db := corpusDB(t)
	opts := Options{Matcher: match.New(db, match.Options{}), Image: imageOptions(t)}
	ref := "dir:" + rootfs(t)
	const n = 4
	reports := make([]*result.Report, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := Image(context.Background(), ref, opts)
			if err != nil {
				t.Error(err)
				return
			}
			reports[i] = r
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	first := findingKeys(reports[0])
	if len(first) < 20 {
		t.Fatalf("findings = %d, want the go1.15.2 stdlib CVEs", len(first))
	}
	for i := 1; i < n; i++ {
		if got := findingKeys(reports[i]); !reflect.DeepEqual(got, first) {
			t.Errorf("scan %d differs: %d vs %d findings", i, len(got), len(first))
		}
	}
}

// The server stores inventories and re-evaluates them when the DB changes,
// without the image: Evaluate on a JSON round-tripped inventory must give
// the findings of the original scan.
func TestEvaluateStoredInventory(t *testing.T) {
	db := corpusDB(t)
	opts := Options{Matcher: match.New(db, match.Options{}), Image: imageOptions(t)}
	inv, err := Inventory(context.Background(), "dir:"+rootfs(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := Evaluate(context.Background(), inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	var stored inventory.Inventory
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	again, err := Evaluate(context.Background(), &stored, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(findingKeys(direct), findingKeys(again)) {
		t.Errorf("re-evaluation differs: %d vs %d findings", len(findingKeys(again)), len(findingKeys(direct)))
	}
	if again.Summary.Total != direct.Summary.Total || direct.Summary.Total == 0 {
		t.Errorf("summary totals %d vs %d", again.Summary.Total, direct.Summary.Total)
	}
}

func TestUnreadableImageWrapsErrNoImage(t *testing.T) {
	_, err := Image(context.Background(), "docker-archive:"+filepath.Join(t.TempDir(), "missing.tar"), Options{})
	if err == nil || !errors.Is(err, ErrNoImage) {
		t.Fatalf("err = %v, want ErrNoImage", err)
	}
}

func imageOptions(t *testing.T) image.Options {
	return image.Options{TempDir: t.TempDir()}
}

// The report repeats the image config; no secret may survive in it.
func TestReportRedactsConfigSecrets(t *testing.T) {
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDxEXAMPLEtestkeyonlyFORvigilTESTSxyzxyzxyzxyzAAAAJgAAAAAAAA\n-----END OPENSSH PRIVATE KEY-----"
	token := "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
	inv := &inventory.Inventory{Artifact: inventory.Artifact{
		Name: "test",
		Config: &inventory.ImageConfig{
			Env:     []string{"SSH_KEY=" + key, "GITHUB_TOKEN=" + token, "PATH=/usr/bin", "DB_PASSWORD=hunter2-but-longer", "PASSWORD_FILE=/run/secrets/db"},
			History: []inventory.HistoryEntry{{CreatedBy: "RUN git clone https://x:" + token + "@github.com/o/r"}},
		},
		Layers: []inventory.Layer{{CreatedBy: "RUN git clone https://x:" + token + "@github.com/o/r"}},
	}}
	r, err := Evaluate(context.Background(), inv, Options{Extras: Extras{Secrets: true}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	for _, s := range []string{token, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "hunter2-but-longer"} {
		if strings.Contains(string(b), s) {
			t.Errorf("report contains %q in clear", s)
		}
	}
	if !strings.Contains(string(b), "PATH=/usr/bin") || !strings.Contains(string(b), "PASSWORD_FILE=/run/secrets/db") {
		t.Error("non-secret env entries must stay as they are")
	}
	if inv.Artifact.Config.Env[1] != "GITHUB_TOKEN="+token {
		t.Error("the inventory itself must not be modified")
	}
}
