package java

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/inventory"
)

func ids(pkgs []inventory.Package) []string {
	var s []string
	for _, p := range pkgs {
		s = append(s, p.Name+"@"+p.Version)
	}
	slices.Sort(s)
	return s
}

func analyze(t *testing.T, p string, content []byte) ([]inventory.Package, []string, error) {
	t.Helper()
	a := Analyzers()[0]
	if !a.Claims(p, 0o644, int64(len(content))) {
		t.Fatalf("%s not claimed", p)
	}
	var out inventory.LayerResult
	err := a.Analyze(context.Background(), inventory.NewFileBytes(p, 0o644, content), &out)
	return out.Packages, out.Warnings, err
}

// Expected lists come from `unzip -l` and reading each pom.properties and
// MANIFEST.MF of the archives and of the archives nested in them.
func TestCorpusArchives(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"example-java-app-maven-0.1.0.jar", []string{"joda-time:joda-time@2.9.2", "org.anchore:example-java-app-maven@0.1.0"}},
		{"hadoop-shaded-guava-1.1.0-SNAPSHOT.jar", []string{
			"com.google.guava:failureaccess@1.0.1", "com.google.guava:guava@29.0-jre",
			"com.google.guava:listenablefuture@9999.0-empty-to-avoid-conflict-with-guava",
			"com.google.j2objc:j2objc-annotations@1.3", "org.apache.hadoop.thirdparty:hadoop-shaded-guava@1.1.0-SNAPSHOT"}},
		{"io.quarkus.gizmo.gizmo-1.1.jar", []string{
			"com.fasterxml.jackson.core:jackson-databind@2.12.3", "com.fasterxml.jackson.core:jackson-databind@2.13.4",
			"io.quarkus.gizmo:gizmo@1.1", "log4j:log4j@1.2.16", "log4j:log4j@1.2.17"}},
		{"multi-license-1.0.0.jar", []string{"com.example:multi-license@1.0.0"}},
		{"scalibr-nested_at_100.jar", nil},
		{"trivy-gradle.war", []string{"commons-dbcp:commons-dbcp@1.4", "commons-pool:commons-pool@1.6",
			"log4j:log4j@1.2.17", "org.apache.commons:commons-compress@1.19"}},
		{"trivy-nested.jar", []string{"test:nested2@0.0.2", "test:nested3@0.0.3", "test:nested@0.0.1"}},
		{"trivy-test.par", []string{"com.example:par-app@3.0.0", "com.fasterxml.jackson.core:jackson-core@2.9.10"}},
		{"trivy-tomcat-embed-websocket.jar", []string{"org.apache:tomcat-embed-websocket@9.0.65"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			content, err := os.ReadFile(corpus.Path(t, "pkgdb", "java", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			diskPath := "opt/app/" + tt.file
			pkgs, _, err := analyze(t, diskPath, content)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("packages:\n got %q\nwant %q", got, tt.want)
			}
			for _, p := range pkgs {
				if p.Path != diskPath || p.Ecosystem != "Maven" || p.Type != inventory.TypeMaven || !strings.HasPrefix(p.PURL, "pkg:maven/") {
					t.Errorf("bad fields: %+v", p)
				}
			}
		})
	}
}

func TestNestedDetails(t *testing.T) {
	content, err := os.ReadFile(corpus.Path(t, "pkgdb", "java", "trivy-nested.jar"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, _, err := analyze(t, "app.jar", content)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"test:nested":  "",
		"test:nested2": "META-INF/jars/nested2.jar",
		"test:nested3": "META-INF/jars/nested2.jar!/META-INF/jars/nested3.jar",
	}
	for _, p := range pkgs {
		if got := p.Metadata["java.nested"]; got != want[p.Name] {
			t.Errorf("%s: java.nested = %q, want %q", p.Name, got, want[p.Name])
		}
	}
}

func TestLicensesAndPURL(t *testing.T) {
	content, err := os.ReadFile(corpus.Path(t, "pkgdb", "java", "trivy-gradle.war"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, _, err := analyze(t, "app.war", content)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if p.Name != "org.apache.commons:commons-compress" {
			continue
		}
		if !slices.Equal(p.Licenses, []string{"https://www.apache.org/licenses/LICENSE-2.0.txt"}) {
			t.Errorf("licenses = %q", p.Licenses)
		}
		if p.PURL != "pkg:maven/org.apache.commons/commons-compress@1.19" {
			t.Errorf("purl = %q", p.PURL)
		}
		if p.Metadata["java.nested"] != "WEB-INF/lib/commons-compress-1.19.jar" {
			t.Errorf("java.nested = %q", p.Metadata["java.nested"])
		}
		return
	}
	t.Fatal("commons-compress not found")
}

func TestDeepNestingWarns(t *testing.T) {
	content, err := os.ReadFile(corpus.Path(t, "pkgdb", "java", "scalibr-nested_at_100.jar"))
	if err != nil {
		t.Fatal(err)
	}
	_, warnings, err := analyze(t, "deep.jar", content)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "nested deeper") {
		t.Errorf("warnings = %q", warnings)
	}
}

// buildZip writes a zip with the given entries, stored or deflated.
func buildZip(t testing.TB, entries map[string][]byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fw, err := w.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(entries[n])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEdgeCases(t *testing.T) {
	pom := []byte("groupId=g\nartifactId=a\nversion=1.0\n")
	bomb := buildZip(t, map[string][]byte{"META-INF/maven/g/a/pom.properties": bytes.Repeat([]byte("x"), maxMetadataBytes+1)})
	tests := []struct {
		name    string
		file    string
		content []byte
		want    []string
		wantErr bool
	}{
		{"garbage", "x.jar", []byte("this is not a zip file at all, not even close"), nil, true},
		{"truncated", "x.jar", buildZip(t, map[string][]byte{"META-INF/maven/g/a/pom.properties": pom})[:40], nil, true},
		{"empty zip", "x.jar", buildZip(t, nil), nil, false},
		{"file name only", "lib/commons-io-2.11.0.jar", buildZip(t, nil), []string{"commons-io@2.11.0"}, false},
		{"metadata bomb", "x.jar", bomb, nil, false},
		{"placeholder version", "x.jar", buildZip(t, map[string][]byte{"META-INF/maven/g/a/pom.properties": []byte("groupId=g\nartifactId=a\nversion=${project.version}\n")}), nil, false},
		{"duplicates", "x.jar", buildZip(t, map[string][]byte{
			"META-INF/maven/g/a/pom.properties": pom,
			"lib/inner.jar":                     buildZip(t, map[string][]byte{"META-INF/maven/g/a/pom.properties": pom}),
		}), []string{"g:a@1.0"}, false},
		{"corrupt nested", "x.jar", buildZip(t, map[string][]byte{"lib/inner-2.0.jar": []byte("garbage")}), nil, false},
		{"manifest", "x.jar", buildZip(t, map[string][]byte{"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\r\nImplementation-Title: Foo\r\nImplementation-Version: 2.1\r\nImplementation-Vendor-Id: org.f\r\n oo\r\nBundle-License: MIT, Apache-2.0;link=x\r\n")}), []string{"org.foo:x@2.1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, _, err := analyze(t, tt.file, tt.content)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
}

// storedZip writes one uncompressed entry, so the archive is as large as
// its content and deflates well inside another archive.
func storedZip(t testing.TB, name string, content []byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	fw, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZipBomb nests a jar that inflates past the nested-archive limit: it
// is skipped with a warning instead of being held in memory.
func TestZipBomb(t *testing.T) {
	inner := storedZip(t, "filler.bin", make([]byte, maxNestedBytes+1))
	outer := buildZip(t, map[string][]byte{
		"META-INF/maven/g/a/pom.properties": []byte("groupId=g\nartifactId=a\nversion=1\n"),
		"lib/bomb-1.0.jar":                  inner,
	})
	if len(outer) > 1<<20 {
		t.Fatalf("fixture is %d bytes, want a small bomb", len(outer))
	}
	pkgs, warnings, err := Scan(context.Background(), "bomb.jar", bytes.NewReader(outer), int64(len(outer)))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(pkgs); !slices.Equal(got, []string{"g:a@1"}) {
		t.Errorf("packages = %q", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "lib/bomb-1.0.jar") {
		t.Errorf("warnings = %q", warnings)
	}
}

// TestBudget checks that the total decompressed bytes of one archive are
// bounded, across nested archives.
func TestBudget(t *testing.T) {
	inner := storedZip(t, "META-INF/maven/g/b/pom.properties", []byte("groupId=g\nartifactId=b\nversion=1\n"))
	outer := buildZip(t, map[string][]byte{"lib/one-1.jar": inner, "lib/two-1.jar": inner, "lib/three-1.jar": inner})
	s := &scanner{diskPath: "x.jar", budget: int64(len(inner)) + 10, seen: map[string]bool{}}
	if err := s.scan(context.Background(), bytes.NewReader(outer), int64(len(outer)), "", 0); err != nil {
		t.Fatal(err)
	}
	if len(s.warnings) != 1 || !strings.Contains(s.warnings[0], "rest not scanned") || len(s.pkgs) != 1 {
		t.Errorf("warnings = %q", s.warnings)
	}
}

func TestEntryCountLimit(t *testing.T) {
	z := buildZip(t, map[string][]byte{"a": nil})
	// Patch the end record's entry counts to an absurd value.
	i := bytes.LastIndex(z, []byte("PK\x05\x06"))
	z[i+8], z[i+9], z[i+10], z[i+11] = 0xfe, 0xff, 0xfe, 0xff
	if _, err := entryCount(bytes.NewReader(z), int64(len(z))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Scan(context.Background(), "x.jar", bytes.NewReader(z), int64(len(z))); err == nil {
		t.Error("no error for a corrupt entry count")
	}
}

func TestParseManifest(t *testing.T) {
	h := parseManifest([]byte("Manifest-Version: 1.0\nImplementation-URL: https://ex\n ample.org/\n\nName: sec\nImplementation-Version: 9\n"))
	if h["Implementation-URL"] != "https://example.org/" || h["Implementation-Version"] != "" {
		t.Errorf("headers = %v", h)
	}
}

func BenchmarkScanWar(b *testing.B) {
	content, err := os.ReadFile(corpus.Path(b, "pkgdb", "java", "trivy-gradle.war"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		if _, _, err := Scan(context.Background(), "app.war", bytes.NewReader(content), int64(len(content))); err != nil {
			b.Fatal(err)
		}
	}
}
