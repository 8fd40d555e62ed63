package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/report"
)

// The binary must not print, write, log or publish a secret planted in any
// field of the image config, whatever the command, format and image source
// (issue 8 item 4).
func TestNoConfigSecretLeavesTheBinary(t *testing.T) {
	setup(t)
	img, planted := imagetest.SecretConfigImage(t)
	host := imagetest.Registry(t)
	pushed := imagetest.Push(t, img, host+"/acme/app:1.0").String()
	refs := map[string]string{
		"archive":  imagetest.WriteDockerArchive(t, img, "acme/app:1.0"),
		"layout":   imagetest.WriteLayout(t, img),
		"registry": pushed,
	}
	ps := newPublishServer(t)
	check := func(t *testing.T, what, text string) {
		t.Helper()
		for _, p := range planted {
			if strings.Contains(text, p.Clear) {
				t.Errorf("%s holds the %s secret in clear", what, p.Field)
			}
		}
	}
	for source, ref := range refs {
		t.Run(source, func(t *testing.T) {
			dir := t.TempDir()
			common := []string{"--insecure-registry", "--log-level", "debug"}
			// Every format of a command in one run, each to its own file,
			// plus the table on standard output.
			var imageArgs, lintArgs []string
			for _, f := range report.Formats() {
				imageArgs = append(imageArgs, "--format", f+"=image."+f)
				lintArgs = append(lintArgs, "--format", f+"=lint."+f)
			}
			runs := [][]string{
				append(append([]string{"image", ref, "--format", "table", "--publish", "--server", ps.URL}, imageArgs...), common...),
				append(append([]string{"lint", ref, "--format", "table"}, lintArgs...), common...),
			}
			for _, f := range []string{"json", "cyclonedx-json", "spdx-json", "table"} {
				runs = append(runs, append([]string{"sbom", ref, "--format", f, "--output", "sbom." + f}, common...))
			}
			for _, args := range runs {
				res := vigil(t, dir, nil, args...)
				if res.code == 2 {
					t.Fatalf("%v:\n%s", args, res)
				}
				check(t, args[0]+" stdout", res.stdout)
				check(t, args[0]+" stderr", res.stderr)
			}
			files, _ := os.ReadDir(dir)
			n := 0
			for _, f := range files {
				if f.IsDir() {
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, f.Name()))
				if err != nil {
					t.Fatal(err)
				}
				n++
				check(t, f.Name(), string(b))
			}
			if want := 2*len(report.Formats()) + 4; n < want {
				t.Errorf("%d output files, want %d", n, want)
			}
			// The cache is an output too: a later scan of another image reads it.
			filepath.WalkDir(filepath.Join(workDir, "cache"), func(p string, d os.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					b, _ := os.ReadFile(p)
					check(t, "cache file "+p, string(b))
				}
				return nil
			})
		})
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.payloads) != len(refs) {
		t.Fatalf("%d payloads, want %d", len(ps.payloads), len(refs))
	}
	for _, p := range ps.payloads {
		b, _ := json.Marshal(p)
		check(t, "publish payload", string(b))
	}
}
