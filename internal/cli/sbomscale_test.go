package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/result"
)

// A large SBOM, the packages of a real image replicated (each copy at its
// own path, so it is a package of its own that matches as the original
// does), yields the small SBOM's findings times the copies, in every
// streamed JSON format: the compact reading of large SBOMs (shared
// strings, packages built as they are read, the pre-counted package
// slice) changes no result.
func TestSbomScanLargeSBOMScales(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and scans SBOMs of 39,000 packages")
	}
	env := corpusDB(t)
	dir := t.TempDir()
	// The corpus's package databases: 389 packages of every type, 51
	// findings.
	ref := "dir:" + corpus.Path(t, "pkgdb")
	const copies = 100
	for _, format := range []string{"cyclonedx-json", "spdx-json", "json"} {
		t.Run(format, func(t *testing.T) {
			small := filepath.Join(dir, "small."+format)
			if code, _, stderr := run(t, env, "", "sbom", ref, "--format", format+"="+small); code != 0 {
				t.Fatalf("sbom: %d %s", code, stderr)
			}
			large := filepath.Join(dir, "large."+format)
			replicateSBOM(t, small, large, format, copies)
			want := scanSBOM(t, env, small)
			got := scanSBOM(t, env, large)
			if len(want.Vulnerabilities) == 0 {
				t.Fatal("the small SBOM has no findings: nothing is compared")
			}
			if len(got.Packages) != copies*len(want.Packages) || len(got.Vulnerabilities) != copies*len(want.Vulnerabilities) {
				t.Fatalf("%d packages, %d findings; want %d times %d and %d", len(got.Packages), len(got.Vulnerabilities), copies, len(want.Packages), len(want.Vulnerabilities))
			}
			if got.Artifact.OS != want.Artifact.OS {
				t.Errorf("OS %+v, want %+v", got.Artifact.OS, want.Artifact.OS)
			}
			// Every copy has the original's packages and findings.
			count := map[string]int{}
			for _, p := range want.Packages {
				count[packageKey(p.Name, p.Version, p.Type, p.Ecosystem, p.PURL, p.Source, p.Licenses)] += copies
			}
			for _, p := range got.Packages {
				count[packageKey(p.Name, p.Version, p.Type, p.Ecosystem, p.PURL, p.Source, p.Licenses)]--
			}
			for _, f := range want.Vulnerabilities {
				count[findingKey(f.ID, f.Package.Name, f.Package.Version, f.Severity, f.FixState, f.FixedVersions)] += copies
			}
			for _, f := range got.Vulnerabilities {
				count[findingKey(f.ID, f.Package.Name, f.Package.Version, f.Severity, f.FixState, f.FixedVersions)]--
			}
			owned := func(r result.Report) (n int) {
				for _, p := range r.Packages {
					if p.Owner != nil {
						n++
					}
				}
				return n
			}
			if owned(got) != copies*owned(want) {
				t.Errorf("%d packages with an owner, want %d times %d", owned(got), copies, owned(want))
			}
			for k, n := range count {
				if n != 0 {
					t.Errorf("%s: %d more in the large SBOM than the copies of the small one", k, -n)
				}
			}
			if !slices.Equal(got.Warnings, want.Warnings) {
				t.Errorf("warnings %q, want %q", got.Warnings, want.Warnings)
			}
		})
	}
}

func packageKey(name, version, typ, eco, purl string, src any, licenses []string) string {
	return fmt.Sprintf("package %s %s %s %s %s %v %q", name, version, typ, eco, purl, src, licenses)
}

func findingKey(id, name, version, severity string, state any, fixed []string) string {
	return fmt.Sprintf("finding %s %s %s %s %v %q", id, name, version, severity, state, fixed)
}

func scanSBOM(t *testing.T, env map[string]string, in string) result.Report {
	t.Helper()
	out := in + ".report.json"
	if code, _, stderr := run(t, env, "", "sbom-scan", in, "--format", "json="+out, "--exit-code", "0"); code != 0 {
		t.Fatalf("sbom-scan %s: %d %s", filepath.Base(in), code, stderr)
	}
	var r result.Report
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// replicateSBOM writes copies of the packages of the SBOM in to out, copy
// n of each at its path plus "-n" (and, in CycloneDX and SPDX, with its
// reference plus "-n").
func replicateSBOM(t *testing.T, in, out, format string, copies int) {
	t.Helper()
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	key := map[string]string{"cyclonedx-json": "components", "spdx-json": "packages", "json": "packages"}[format]
	var all []any
	for n := range copies {
		for _, item := range doc[key].([]any) {
			m := clone(t, item).(map[string]any)
			suffix := fmt.Sprintf("-%d", n)
			switch format {
			case "cyclonedx-json":
				if m["type"] == "operating-system" {
					if n > 0 {
						continue
					}
					break
				}
				m["bom-ref"] = fmt.Sprint(m["bom-ref"]) + suffix
				for _, p := range m["properties"].([]any) {
					if p := p.(map[string]any); p["name"] == "vigil:path" {
						p["value"] = fmt.Sprint(p["value"]) + suffix
					}
				}
			case "spdx-json":
				if !strings.HasPrefix(fmt.Sprint(m["SPDXID"]), "SPDXRef-Package-") {
					if n > 0 {
						continue
					}
					break
				}
				m["SPDXID"] = fmt.Sprint(m["SPDXID"]) + suffix
				m["sourceInfo"] = fmt.Sprint(m["sourceInfo"]) + suffix
			case "json":
				m["path"] = fmt.Sprint(m["path"]) + suffix
			}
			all = append(all, m)
		}
	}
	doc[key] = all
	delete(doc, "dependencies")
	if rels, ok := doc["relationships"].([]any); ok {
		// Relationships to packages are copied with them.
		var out []any
		for _, r := range rels {
			r := r.(map[string]any)
			a, b := fmt.Sprint(r["spdxElementId"]), fmt.Sprint(r["relatedSpdxElement"])
			if !strings.HasPrefix(b, "SPDXRef-Package-") {
				out = append(out, r)
				continue
			}
			for n := range copies {
				c := clone(t, r).(map[string]any)
				c["relatedSpdxElement"] = fmt.Sprintf("%s-%d", b, n)
				if strings.HasPrefix(a, "SPDXRef-Package-") {
					c["spdxElementId"] = fmt.Sprintf("%s-%d", a, n)
				}
				out = append(out, c)
			}
		}
		doc["relationships"] = out
	}
	if b, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func clone(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// An SBOM with more packages than --sbom-max-packages (or
// VIGIL_SBOM_MAX_PACKAGES) allows is refused with exit 2, naming them.
func TestSbomMaxPackages(t *testing.T) {
	env := corpusDB(t)
	sbom := filepath.Join(t.TempDir(), "app.cdx.json")
	ref := "docker-archive:" + corpus.Path(t, "images", "alpine-310.tar.gz")
	if code, _, stderr := run(t, env, "", "sbom", ref, "--format", "cyclonedx-json="+sbom); code != 0 {
		t.Fatalf("sbom: %d %s", code, stderr)
	}
	for _, args := range [][]string{{"sbom-scan", sbom, "--sbom-max-packages", "13"}, {"image", "sbom:" + sbom, "--sbom-max-packages", "13"}} {
		code, _, stderr := run(t, env, "", args...)
		if code != ExitScanFailed || !strings.Contains(stderr, "more than 13 packages") || !strings.Contains(stderr, "--sbom-max-packages or VIGIL_SBOM_MAX_PACKAGES") {
			t.Errorf("%q: code %d, %s", args, code, stderr)
		}
	}
	limited := map[string]string{"VIGIL_SBOM_MAX_PACKAGES": "13"}
	for k, v := range env {
		limited[k] = v
	}
	if code, _, stderr := run(t, limited, "", "sbom-scan", sbom); code != ExitScanFailed || !strings.Contains(stderr, "more than 13 packages") {
		t.Errorf("VIGIL_SBOM_MAX_PACKAGES=13: code %d, %s", code, stderr)
	}
	// A limit that is no limit is refused, not taken for the default.
	for _, bad := range []string{"0", "-5"} {
		if code, _, stderr := run(t, env, "", "sbom-scan", sbom, "--sbom-max-packages", bad); code != ExitScanFailed || !strings.Contains(stderr, "must be a positive number of packages") {
			t.Errorf("--sbom-max-packages %s: code %d, %s", bad, code, stderr)
		}
	}
	// The image's 14 packages are within a limit of 14.
	if code, _, stderr := run(t, env, "", "sbom-scan", sbom, "--sbom-max-packages", "14", "--exit-code", "0"); code != 0 {
		t.Errorf("--sbom-max-packages 14: code %d, %s", code, stderr)
	}
}
