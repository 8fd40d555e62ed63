package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// Alpine 3.20 (the corpus image with its release files rewritten) against
// secdb data that ends at 3.11: no finding, but never a silent green. The
// table, JSON and SARIF say the 14 packages were not judged, and
// --fail-on-unsupported fails the gate with that reason.
func TestScanAlpine320NotJudged(t *testing.T) {
	img := imagetest.Build(t, alpine310(t), nil, imagetest.Step{CreatedBy: "RUN upgrade to 3.20", Entries: []imagetest.Entry{
		{Name: "etc/os-release", Body: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"},
		{Name: "etc/alpine-release", Body: "3.20.3\n"},
	}})
	ref := imagetest.WriteDockerArchive(t, img, "alpine:3.20")
	dir := t.TempDir()
	res := vigil(t, dir, nil, "image", ref, "--severity-threshold", "LOW", "--format", "table", "--format", "json=r.json", "--format", "sarif=r.sarif")
	if res.code != 0 || !strings.Contains(res.stdout, "Not judged: alpine 3.20.3 (end-of-life)") || !strings.Contains(res.stdout, "alpine 3.20.3 (no-data)") {
		t.Fatalf("want exit 0 and a not-judged header:\n%s", res)
	}
	r := readReport(t, filepath.Join(dir, "r.json"))
	if len(r.Vulnerabilities) != 0 || len(r.NotJudged) != 2 || r.NotJudged[0].Reason != result.NotJudgedEndOfLife || r.NotJudged[1].Reason != result.NotJudgedNoData {
		t.Errorf("not_judged %+v", r.NotJudged)
	}
	sarif, err := os.ReadFile(filepath.Join(dir, "r.sarif"))
	if err != nil || !strings.Contains(string(sarif), "vigil/not-judged/no-data") {
		t.Errorf("sarif has no notification (%v)", err)
	}
	res = vigil(t, dir, nil, "image", ref, "--fail-on-unsupported", "--format", "json=r.json")
	if res.code != 1 || !strings.Contains(res.stderr, "not judged (--fail-on-unsupported): alpine 3.20.3 (end-of-life), alpine 3.20.3 (no-data)") {
		t.Errorf("want the gate to fail on what was not judged:\n%s", res)
	}
}

// A DB with no advisories is refused (exit 2) instead of giving a clean
// report; one missing a feed says what it could not judge.
func TestScanRefusesEmptyOrPartialDB(t *testing.T) {
	ref := imagetest.WriteDockerArchive(t, alpine310(t), "alpine:3.10")
	empty := filepath.Join(t.TempDir(), "empty.db")
	b, err := vulndb.Create(t.Context(), empty)
	if err != nil {
		t.Fatal(err)
	}
	b.AddSource(vulndb.SourceInfo{Name: "kev"})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	res := vigil(t, "", nil, "image", ref, "--db", empty)
	if res.code != 2 || !strings.Contains(res.stderr, "holds no advisories") {
		t.Errorf("empty DB:\n%s", res)
	}

	partial := filepath.Join(t.TempDir(), "partial.db")
	if res := vigil(t, "", nil, "db", "import", feedsDir(t), "--feed", "osv/crates.io", "--db", partial); res.code != 0 {
		t.Fatalf("import:\n%s", res)
	}
	// A DB without the Alpine feeds is used (a prebuilt DB may carry fewer
	// feeds than configured), and the report says the apk packages were
	// not judged.
	dir := t.TempDir()
	res = vigil(t, dir, nil, "image", ref, "--db", partial, "--format", "json=r.json", "--fail-on-unsupported")
	r := readReport(t, filepath.Join(dir, "r.json"))
	if res.code != 1 || len(r.NotJudged) == 0 || r.NotJudged[len(r.NotJudged)-1].Reason != result.NotJudgedNoData || r.NotJudged[len(r.NotJudged)-1].Ecosystem != "Alpine:v3.10" {
		t.Errorf("partial DB: %+v\n%s", r.NotJudged, res)
	}
}

// `vigil db update` in which every feed fails leaves the previous DB as it
// was and exits 2; without a previous DB it writes none.
func TestDBUpdateAllFeedsFail(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "vigil.db")
	if res := vigil(t, "", nil, "db", "import", feedsDir(t), "--feed", "osv/crates.io", "--db", db); res.code != 0 {
		t.Fatalf("import:\n%s", res)
	}
	before, _ := os.ReadFile(db)
	emptyMirror := t.TempDir()
	res := vigil(t, "", nil, "db", "import", emptyMirror, "--feed", "osv/crates.io", "--db", db)
	after, _ := os.ReadFile(db)
	if res.code != 2 || !strings.Contains(res.stderr, "left as it was") || string(before) != string(after) {
		t.Errorf("all feeds absent, previous DB:\n%s", res)
	}
	none := filepath.Join(dir, "none.db")
	res = vigil(t, "", nil, "db", "import", emptyMirror, "--db", none)
	if _, err := os.Stat(none); res.code != 2 || !strings.Contains(res.stderr, "no DB was written") || err == nil {
		t.Errorf("all feeds absent, no previous DB:\n%s", res)
	}
}

func feedsDir(t *testing.T) string { return corpus.Path(t, "feeds") }
