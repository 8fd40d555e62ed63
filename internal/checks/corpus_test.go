package checks_test

import (
	"slices"
	"testing"

	"github.com/vigil-scan/vigil/internal/checks"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/result"
)

type expectation struct {
	level  string
	alerts []string
}

func assertResults(t *testing.T, results []result.CheckResult, want map[string]expectation) {
	t.Helper()
	got := byCode(t, results)
	for _, r := range checks.Rules() {
		w, ok := want[r.Code]
		if !ok {
			w = expectation{level: result.LevelPass}
		}
		g := got[r.Code]
		if g.Level != w.level || !slices.Equal(g.Alerts, w.alerts) {
			t.Errorf("%s: got %s %q, want %s %q", r.Code, g.Level, g.Alerts, w.level, w.alerts)
		}
	}
}

// Dockle's own test image (FROM scratch, ADD Dockerfile.base
// /credentials.json, USER scratch). Dockle's scanner test expects exactly:
// CIS-DI-0010 for credentials.json, CIS-DI-0006, CIS-DI-0005, and SKIP for
// DKL-LI-0001 and DKL-LI-0002 (no account files). The ADD is the first
// layer, which Dockle (and Vigil) do not report; USER scratch is not root.
//
// One difference: Dockle checks the tag only of registry references; Vigil,
// given no tag, reads the archive's RepoTags, and this archive is tagged
// only scratchtest2:latest, so DKL-DI-0006 warns.
func TestCorpusDockleScratch(t *testing.T) {
	inv := readImage(t, "docker-archive:"+corpus.Path(t, "images", "dockle-scratch.tar"))
	dockle := map[string]expectation{
		"CIS-DI-0005": {result.LevelInfo, []string{"export DOCKER_CONTENT_TRUST=1 before docker pull/build/push"}},
		"CIS-DI-0006": {result.LevelInfo, []string{"no HEALTHCHECK instruction"}},
		"CIS-DI-0010": {result.LevelFatal, []string{"credentials.json: suspicious file name"}},
		"DKL-LI-0001": {result.LevelSkip, []string{"no etc/shadow or etc/passwd in the image"}},
		"DKL-LI-0002": {result.LevelSkip, []string{"no etc/passwd or etc/group in the image"}},
	}
	assertResults(t, checks.Run(inv, checks.Options{Tag: "v2"}), dockle)
	dockle["DKL-DI-0006"] = expectation{result.LevelWarn, []string{"the image is tagged only scratchtest2:latest"}}
	assertResults(t, checks.Run(inv, checks.Options{}), dockle)
}

// alpine:3.10 (3.10.4): USER unset (root), no HEALTHCHECK, one rootfs ADD,
// no setuid files (busybox is not setuid in 3.10), every account locked
// ("!" in etc/shadow), unique ids and names.
func TestCorpusAlpine310(t *testing.T) {
	inv := readImage(t, "docker-archive:"+corpus.Path(t, "images", "alpine-310.tar.gz"))
	assertResults(t, checks.Run(inv, checks.Options{Tag: "3.10"}), map[string]expectation{
		"CIS-DI-0001": {result.LevelWarn, []string{"last USER is not set: the container runs as root"}},
		"CIS-DI-0005": {result.LevelInfo, []string{"export DOCKER_CONTENT_TRUST=1 before docker pull/build/push"}},
		"CIS-DI-0006": {result.LevelInfo, []string{"no HEALTHCHECK instruction"}},
	})
	for _, p := range []string{"etc/passwd", "etc/shadow", "etc/group"} {
		if _, ok := inv.Contents[p]; !ok {
			t.Errorf("%s not kept in the inventory contents", p)
		}
	}
	if len(inv.Warnings) > 0 {
		t.Errorf("warnings: %q", inv.Warnings)
	}
}

// dive's 14-layer test image on busybox (2018): busybox's etc/shadow has
// root with an empty password; the two ADDs after the base's root
// filesystem are reported (Dockle spares only the first); the whiteouts of
// later layers leave nothing else to report; the archive is tagged only
// dive-test:latest.
func TestCorpusDive(t *testing.T) {
	inv := readImage(t, "docker-archive:"+corpus.Path(t, "images", "dive-test-docker-image.tar"))
	assertResults(t, checks.Run(inv, checks.Options{ContentTrust: true}), map[string]expectation{
		"CIS-DI-0001": {result.LevelWarn, []string{"last USER is not set: the container runs as root"}},
		"CIS-DI-0006": {result.LevelInfo, []string{"no HEALTHCHECK instruction"}},
		"CIS-DI-0009": {result.LevelFatal, []string{
			"ADD file:139c3708fb6261126453e34483abd8bf7b26ed16d952fd976994d68e72d93be2 in /somefile.txt (history step 3)",
			"ADD dir:7ec14b81316baa1a31c38c97686a8f030c98cba2035c968412749e33e0c4427e in /root/.data/ (history step 12)",
		}},
		"DKL-LI-0001": {result.LevelFatal, []string{"user root has an empty password (etc/shadow line 1)"}},
		"DKL-DI-0006": {result.LevelWarn, []string{"the image is tagged only dive-test:latest"}},
	})
}
