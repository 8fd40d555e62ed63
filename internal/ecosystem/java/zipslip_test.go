package java

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Entry names that would escape an extraction directory ("../../x.jar",
// absolute names) are only names here: the archive and what is nested
// under such names are still catalogued, and nothing is written to disk.
func TestZipSlipNames(t *testing.T) {
	pom := func(g, a, v string) []byte {
		return []byte("groupId=" + g + "\nartifactId=" + a + "\nversion=" + v + "\n")
	}
	inner := buildZip(t, map[string][]byte{"META-INF/maven/evil/inner/pom.properties": pom("evil", "inner", "1.0")})
	outer := buildZip(t, map[string][]byte{
		"META-INF/maven/acme/app/pom.properties":       pom("acme", "app", "2.0"),
		"../../../../tmp/evil-inner-1.0.jar":           inner,
		"/abs/lib/abs-1.0.jar":                         inner,
		"WEB-INF/lib/../../../escape/log4j-2.0.jar":    inner,
		"../../META-INF/maven/evil/pom/pom.properties": pom("evil", "pom", "3.0"),
	})
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	pkgs, warnings, err := analyze(t, "srv/app.war", outer)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name+"@"+p.Version)
	}
	for _, want := range []string{"acme:app@2.0", "evil:inner@1.0"} {
		if !slices.Contains(names, want) {
			t.Errorf("packages %v (warnings %q): %s missing", names, warnings, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(os.TempDir(), "evil-inner-1.0.jar")); err == nil {
		t.Error("an entry was extracted")
	}
}
