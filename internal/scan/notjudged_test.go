package scan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/feeds"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// feedDB imports the named corpus feeds into a temp DB.
func feedDB(t *testing.T, names ...string) *vulndb.DB {
	t.Helper()
	cfg := config.Config{DBPath: filepath.Join(t.TempDir(), "vigil.db"), Mirror: corpus.Path(t, "feeds")}
	u := &feeds.Updater{Config: cfg, Fetcher: &feeds.Fetcher{}}
	if res, err := u.Update(context.Background(), names); err != nil || res.Failed() {
		t.Fatalf("import: %v %+v", err, res)
	}
	db, err := vulndb.Open(cfg.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// alpineImage is the corpus's Alpine 3.10.4 image, with a layer on top
// that rewrites its release files to version when version is not "".
func alpineImage(t *testing.T, version string) string {
	t.Helper()
	tarPath := filepath.Join(t.TempDir(), "alpine-310.tar")
	imagetest.Gunzip(t, corpus.Path(t, "images", "alpine-310.tar.gz"), tarPath)
	if version == "" {
		return "docker-archive:" + tarPath
	}
	base, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	mm := version[:strings.LastIndex(version, ".")]
	img := imagetest.Build(t, base, nil, imagetest.Step{CreatedBy: "RUN sed -i s/3.10.4/" + version + "/ /etc/*release", Entries: []imagetest.Entry{
		{Name: "etc/os-release", Body: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=" + version + "\nPRETTY_NAME=\"Alpine Linux v" + mm + "\"\n"},
		{Name: "etc/alpine-release", Body: version + "\n"},
	}})
	return imagetest.WriteDockerArchive(t, img, "alpine:"+mm)
}

func findNotJudged(r *result.Report, reason string) *result.NotJudged {
	for i := range r.NotJudged {
		if r.NotJudged[i].Reason == reason {
			return &r.NotJudged[i]
		}
	}
	return nil
}

// Alpine 3.20 against a DB whose secdb ends at 3.11: no finding, and the
// report says the 14 apk packages were not checked and that 3.20 is past
// its end of life; --fail-on-unsupported fails the gate with the reason.
func TestNotJudgedAlpineReleaseWithoutData(t *testing.T) {
	db := feedDB(t, "alpine")
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	opts := Options{Matcher: match.New(db, match.Options{}), Image: imageOptions(t), Now: func() time.Time { return now },
		Extras: Extras{Gate: policy.GateOptions{Threshold: "LOW", FailOnUnsupported: true}}}
	r, err := Image(context.Background(), alpineImage(t, "3.20.3"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Vulnerabilities) != 0 {
		t.Errorf("findings from another release's data: %v", findingKeys(r))
	}
	nd := findNotJudged(r, result.NotJudgedNoData)
	if nd == nil || nd.Scope != result.ScopeOS || nd.Ecosystem != "Alpine:v3.20" || nd.Packages != 14 || nd.Target != "alpine 3.20.3" {
		t.Fatalf("no-data entry %+v in %+v", nd, r.NotJudged)
	}
	eol := findNotJudged(r, result.NotJudgedEndOfLife)
	if eol == nil || eol.Since != "2026-04-01" || !strings.Contains(eol.Source, "alpinelinux.org") {
		t.Errorf("end-of-life entry %+v", eol)
	}
	if r.Summary.NotJudged != 2 {
		t.Errorf("summary.not_judged %d", r.Summary.NotJudged)
	}
	g := r.Summary.Gate
	if g == nil || !g.Failed || len(g.Reasons) != 1 || !strings.Contains(g.Reasons[0], "alpine 3.20.3 (no-data)") {
		t.Errorf("gate %+v", g)
	}
	// Without --fail-on-unsupported the gate passes: nothing was found.
	opts.Gate.FailOnUnsupported = false
	if r, err = Image(context.Background(), alpineImage(t, "3.20.3"), opts); err != nil || r.Summary.Gate.Failed {
		t.Errorf("gate without --fail-on-unsupported: %+v %v", r.Summary.Gate, err)
	}
}

// The real Alpine 3.10 image is judged against v3.10's data; only its end
// of life is reported, and only after the date.
func TestNotJudgedEndOfLife(t *testing.T) {
	db := feedDB(t, "alpine")
	ref := alpineImage(t, "")
	for _, tt := range []struct {
		now  time.Time
		want []string
	}{
		{time.Date(2021, 4, 30, 0, 0, 0, 0, time.UTC), nil},
		{time.Date(2021, 5, 1, 0, 0, 0, 0, time.UTC), []string{result.NotJudgedEndOfLife}},
	} {
		opts := Options{Matcher: match.New(db, match.Options{}), Image: imageOptions(t), Now: func() time.Time { return tt.now }}
		r, err := Image(context.Background(), ref, opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range r.NotJudged {
			got = append(got, n.Reason)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: not judged %+v, want %v", tt.now.Format(time.DateOnly), r.NotJudged, tt.want)
		}
	}
}

// Debian 12 packages against tracker data from before bookworm's release,
// Amazon Linux 2023 rpms (no feed for Amazon Linux), and PyPI packages
// against a DB without the PyPI dump: each is listed with its count.
func TestNotJudgedOtherDistrosAndEcosystems(t *testing.T) {
	db := feedDB(t, "debian", "osv/Go")
	read := func(parts ...string) string {
		b, err := os.ReadFile(corpus.Path(t, parts...))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tt := range []struct {
		name      string
		entries   []imagetest.Entry
		ecosystem string
		scope     string
	}{
		{"debian 12", []imagetest.Entry{
			{Name: "etc/os-release", Body: read("pkgdb", "os-release", "claircore-debian-12", "etc", "os-release")},
			{Name: "var/lib/dpkg/status", Body: read("pkgdb", "dpkg", "scalibr-valid", "status")},
		}, "Debian:12", result.ScopeOS},
		{"amazon linux 2023", []imagetest.Entry{
			{Name: "etc/os-release", Body: "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nVERSION_ID=\"2023\"\n"},
			{Name: "var/lib/rpm/rpmdb.sqlite", Body: read("pkgdb", "rpm", "gorpmdb-amazonlinux2023", "var", "lib", "rpm", "rpmdb.sqlite")},
		}, "Amazon Linux:2023", result.ScopeOS},
		{"pypi", []imagetest.Entry{
			{Name: "usr/lib/python3/site-packages/zipp-3.12.1.dist-info/METADATA", Body: read("pkgdb", "python", "trivy-zipp-3.12.1.dist-info", "METADATA")},
		}, "PyPI", result.ScopeEcosystem},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ref := imagetest.WriteLayout(t, imagetest.Build(t, empty.Image, nil, imagetest.Step{CreatedBy: "COPY . /", Entries: tt.entries}))
			opts := Options{Matcher: match.New(db, match.Options{}), Image: imageOptions(t), Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
			r, err := Image(context.Background(), ref, opts)
			if err != nil {
				t.Fatal(err)
			}
			nd := findNotJudged(r, result.NotJudgedNoData)
			if nd == nil || nd.Ecosystem != tt.ecosystem || nd.Scope != tt.scope || nd.Packages == 0 || nd.Packages != len(r.Packages) {
				t.Fatalf("no-data entry %+v (packages %d) in %+v", nd, len(r.Packages), r.NotJudged)
			}
		})
	}
}
