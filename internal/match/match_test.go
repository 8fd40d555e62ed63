package match

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/vuln"
)

func match(t *testing.T, s vuln.Store, opts Options, pkgs ...inventory.Package) ([]vuln.Finding, []string) {
	t.Helper()
	fs, warns, err := New(s, opts).Match(context.Background(), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	return fs, warns
}

func ids(fs []vuln.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Package.Name+":"+f.ID)
	}
	return out
}

// TestAlpineBackport: a fix rebuilt in the installed release (-r2 over
// -r0) is not reported; a later upstream fix is, keyed by origin.
func TestAlpineBackport(t *testing.T) {
	s := newFakeStore().
		add(vuln.Affected{VulnID: "CVE-2019-1547", Source: "alpine-secdb", Ecosystem: "Alpine:v3.10", Package: "openssl", Ranges: fixedRange("0", "1.1.1d-r0"), FixState: vuln.FixStateFixed}).
		add(vuln.Affected{VulnID: "CVE-2020-1967", Source: "alpine-secdb", Ecosystem: "Alpine:v3.10", Package: "openssl", Ranges: fixedRange("0", "1.1.1g-r0"), FixState: vuln.FixStateFixed}).
		add(vuln.Affected{VulnID: "CVE-2000-0001", Source: "alpine-secdb", Ecosystem: "Alpine:v3.10", Package: "openssl", FixState: vuln.FixStateNotAffected})
	p := pkg(inventory.TypeApk, "Alpine:v3.10", "libssl1.1", "1.1.1d-r2")
	p.Source = &inventory.SourcePackage{Name: "openssl", Version: "1.1.1d-r2"}
	fs, warns := match(t, s, Options{}, p)
	if got := ids(fs); !slices.Equal(got, []string{"libssl1.1:CVE-2020-1967"}) || len(warns) != 0 {
		t.Fatalf("findings %v warnings %v", got, warns)
	}
	if fs[0].Remediation != "apk add --upgrade libssl1.1=1.1.1g-r0" || fs[0].FixState != vuln.FixStateFixed {
		t.Errorf("finding %+v", fs[0])
	}
}

// TestDebianSourceVersion: tracker records are keyed and versioned by
// source package; unfixed states are carried and hidden by IgnoreUnfixed.
func TestDebianSourceVersion(t *testing.T) {
	s := newFakeStore().
		add(vuln.Affected{VulnID: "CVE-2023-0001", Source: "debian-tracker", Ecosystem: "Debian:12", Package: "openssl", Ranges: fixedRange("0", "3.0.9-1"), FixState: vuln.FixStateFixed, Severity: vuln.SeverityLow}).
		add(vuln.Affected{VulnID: "CVE-2023-0002", Source: "debian-tracker", Ecosystem: "Debian:12", Package: "openssl", Ranges: []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: "0"}}}}, FixState: vuln.FixStateWontFix}).
		add(vuln.Affected{VulnID: "CVE-2023-0003", Source: "debian-tracker", Ecosystem: "Debian:12", Package: "openssl", Ranges: fixedRange("0", "3.0.8-1"), FixState: vuln.FixStateFixed})
	// Binary version 3.0.8-1+b1 (binNMU) of source 3.0.8-1.
	p := pkg(inventory.TypeDeb, "Debian:12", "libssl3", "3.0.8-1+b1")
	p.Source = &inventory.SourcePackage{Name: "openssl", Version: "3.0.8-1"}
	fs, _ := match(t, s, Options{}, p)
	if got := ids(fs); !slices.Equal(got, []string{"libssl3:CVE-2023-0001", "libssl3:CVE-2023-0002"}) {
		t.Fatalf("findings %v", got)
	}
	if fs[0].Severity != vuln.SeverityLow || fs[0].SeveritySource != "debian-tracker" {
		t.Errorf("vendor severity: %s from %s", fs[0].Severity, fs[0].SeveritySource)
	}
	if !strings.Contains(fs[0].Remediation, "source openssl fixed in 3.0.9-1") {
		t.Errorf("remediation %q", fs[0].Remediation)
	}
	if fs[1].FixState != vuln.FixStateWontFix || fs[1].Remediation != "" {
		t.Errorf("wont-fix finding %+v", fs[1])
	}
	fs, _ = match(t, s, Options{IgnoreUnfixed: true}, p)
	if got := ids(fs); !slices.Equal(got, []string{"libssl3:CVE-2023-0001"}) {
		t.Errorf("IgnoreUnfixed: findings %v", got)
	}
}

// TestEcosystemIsolation: a PyPI "requests" never matches an npm "requests".
func TestEcosystemIsolation(t *testing.T) {
	s := newFakeStore().
		add(vuln.Affected{VulnID: "PYSEC-2023-74", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "requests", Ranges: fixedRange("0", "2.31.0"), FixState: vuln.FixStateFixed})
	// A store that ignores the ecosystem must still not cross.
	s.affected[[2]string{"npm", "requests"}] = s.affected[[2]string{"PyPI", "requests"}]
	fs, _ := match(t, s, Options{}, pkg(inventory.TypeNPM, "npm", "requests", "1.0.0"), pkg(inventory.TypePyPI, "PyPI", "Requests", "2.30.0"))
	if got := ids(fs); !slices.Equal(got, []string{"Requests:PYSEC-2023-74"}) {
		t.Fatalf("findings %v", got)
	}
	if fs[0].Remediation != "pip install 'Requests>=2.31.0'" {
		t.Errorf("remediation %q", fs[0].Remediation)
	}
}

// TestAliasMerge: PYSEC, GHSA and an NVD-only CVE collapse into one finding
// named by the CVE; fixed versions merge, the lowest above installed first.
func TestAliasMerge(t *testing.T) {
	s := newFakeStore().
		add(vuln.Affected{VulnID: "PYSEC-2021-108", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "urllib3", Ranges: fixedRange("0", "1.26.5"), FixState: vuln.FixStateFixed}).
		add(vuln.Affected{VulnID: "GHSA-q2q7-5pp4-w6pg", Source: "ghsa", Ecosystem: "PyPI", Package: "urllib3", Ranges: []vuln.Range{{Type: "ECOSYSTEM", Events: []vuln.Event{{Introduced: "0"}, {Fixed: "1.26.5"}, {Introduced: "2.0.0"}, {Fixed: "2.0.3"}}}}, FixState: vuln.FixStateFixed}).
		vuln(vuln.Vulnerability{ID: "PYSEC-2021-108", Aliases: []string{"CVE-2021-33503", "GHSA-q2q7-5pp4-w6pg"}, Summary: "ReDoS in urllib3", Source: "osv:PyPI"}).
		vuln(vuln.Vulnerability{ID: "GHSA-q2q7-5pp4-w6pg", Aliases: []string{"CVE-2021-33503"}, Source: "ghsa", CVSS: []vuln.CVSS{{Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}})
	fs, _ := match(t, s, Options{}, pkg(inventory.TypePyPI, "PyPI", "urllib3", "1.26.4"))
	if len(fs) != 1 {
		t.Fatalf("findings %v", ids(fs))
	}
	f := fs[0]
	if f.ID != "CVE-2021-33503" || !slices.Equal(f.Aliases, []string{"GHSA-q2q7-5pp4-w6pg", "PYSEC-2021-108"}) {
		t.Errorf("id %s aliases %v", f.ID, f.Aliases)
	}
	if !slices.Equal(f.FixedVersions, []string{"1.26.5", "2.0.3"}) || f.Remediation != "pip install 'urllib3>=1.26.5'" {
		t.Errorf("fixed %v remediation %q", f.FixedVersions, f.Remediation)
	}
	if f.Title != "ReDoS in urllib3" || !slices.Equal(f.DataSources, []string{"ghsa", "osv:PyPI"}) {
		t.Errorf("title %q sources %v", f.Title, f.DataSources)
	}
	if f.Severity != vuln.SeverityHigh || f.SeveritySource != "cvss:3.1" || f.MaxCVSS() != 7.5 {
		t.Errorf("severity %s %s %v", f.Severity, f.SeveritySource, f.CVSS)
	}
}

// TestAdvisoryExpansion: an ALSA advisory related to several CVEs yields
// one finding per CVE, each naming the advisory; rpm compares binary EVRs.
func TestAdvisoryExpansion(t *testing.T) {
	s := newFakeStore().
		add(vuln.Affected{VulnID: "ALSA-2024:0248", Source: "osv:AlmaLinux", Ecosystem: "AlmaLinux:8", Package: "java-21-openjdk-headless", Ranges: fixedRange("0", "1:21.0.2.0.13-1.el8.alma.1"), FixState: vuln.FixStateFixed, Severity: vuln.SeverityHigh}).
		vuln(vuln.Vulnerability{ID: "ALSA-2024:0248", Related: []string{"CVE-2024-20952", "CVE-2024-20918"}, Summary: "Important: java-21-openjdk security update", Source: "osv:AlmaLinux"})
	p := pkg(inventory.TypeRPM, "AlmaLinux:8", "java-21-openjdk-headless", "1:21.0.1.0.12-2.el8.alma.1")
	p.Source = &inventory.SourcePackage{Name: "java-21-openjdk", Version: "21.0.1.0.12-2.el8.alma.1"}
	fs, _ := match(t, s, Options{}, p)
	if got := ids(fs); !slices.Equal(got, []string{"java-21-openjdk-headless:CVE-2024-20918", "java-21-openjdk-headless:CVE-2024-20952"}) {
		t.Fatalf("findings %v", got)
	}
	for _, f := range fs {
		if !slices.Equal(f.Aliases, []string{"ALSA-2024:0248"}) || f.Severity != vuln.SeverityHigh || f.Remediation != "dnf upgrade java-21-openjdk-headless-1:21.0.2.0.13-1.el8.alma.1" {
			t.Errorf("finding %+v", f)
		}
	}
	p.Version = "1:21.0.2.0.13-1.el8.alma.1"
	if fs, _ := match(t, s, Options{}, p); len(fs) != 0 {
		t.Errorf("fixed version still reported: %v", ids(fs))
	}
}

// TestSeverityChoice: advisory CVSS beats NVD; NVD CVSS beats NVD's label;
// nothing gives UNKNOWN. Results sort by severity, then package, then id.
func TestSeverityChoice(t *testing.T) {
	s := newFakeStore()
	for _, id := range []string{"CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "GO-2024-0004"} {
		s.add(vuln.Affected{VulnID: id, Source: "osv:Go", Ecosystem: "Go", Package: "example.com/m", Ranges: []vuln.Range{{Type: "SEMVER", Events: []vuln.Event{{Introduced: "0"}, {Fixed: "1.2.0"}}}}, FixState: vuln.FixStateFixed})
	}
	s.vuln(vuln.Vulnerability{ID: "CVE-2024-0001", CVSS: []vuln.CVSS{{Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"}}, Source: "osv:Go"})
	s.enrich["CVE-2024-0001"] = vuln.Enrichment{CVSS: []vuln.CVSS{{Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}, KEV: &vuln.KEV{DateAdded: "2024-01-01"}}
	s.enrich["CVE-2024-0002"] = vuln.Enrichment{CVSS: []vuln.CVSS{{Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}, NVDSeverity: vuln.SeverityLow}
	s.enrich["CVE-2024-0003"] = vuln.Enrichment{NVDSeverity: vuln.SeverityLow, EPSS: &vuln.EPSS{Score: 0.5}}
	fs, _ := match(t, s, Options{}, pkg(inventory.TypeGolang, "Go", "example.com/m", "v1.1.0"))
	want := []struct{ id, sev, src string }{
		{"CVE-2024-0002", vuln.SeverityCritical, "nvd"},
		{"CVE-2024-0001", vuln.SeverityMedium, "cvss:3.1"},
		{"CVE-2024-0003", vuln.SeverityLow, "nvd"},
		{"GO-2024-0004", vuln.SeverityUnknown, SeveritySourceNone},
	}
	if len(fs) != len(want) {
		t.Fatalf("findings %v", ids(fs))
	}
	for i, w := range want {
		if f := fs[i]; f.ID != w.id || f.Severity != w.sev || f.SeveritySource != w.src {
			t.Errorf("#%d: %s %s %s, want %+v", i, f.ID, f.Severity, f.SeveritySource, w)
		}
	}
	if fs[1].KEV == nil || fs[2].EPSS == nil || len(fs[1].CVSS) != 2 {
		t.Errorf("enrichment not carried: %+v %+v", fs[1], fs[2])
	}
	if fs[0].Remediation != "go get example.com/m@v1.2.0" {
		t.Errorf("remediation %q", fs[0].Remediation)
	}
}

// TestWarnings: unparsable installed versions, unknown distros and broken
// record versions are reported, never guessed.
func TestWarnings(t *testing.T) {
	s := newFakeStore().
		add(vuln.Affected{VulnID: "CVE-2024-1", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "flask", Ranges: fixedRange("0", "2.0"), FixState: vuln.FixStateFixed}).
		add(vuln.Affected{VulnID: "CVE-2024-2", Source: "osv:PyPI", Ecosystem: "PyPI", Package: "jinja2", Ranges: fixedRange("0", "bogus version"), FixState: vuln.FixStateFixed})
	fs, warns := match(t, s, Options{},
		pkg(inventory.TypePyPI, "PyPI", "flask", "1.0-foo-bar"),
		pkg(inventory.TypePyPI, "PyPI", "Jinja2", "1.0"),
		pkg(inventory.TypeDeb, "", "bash", "5.2-1"),
		pkg(inventory.TypeDeb, "", "zlib1g", "1.2-1"),
	)
	if len(fs) != 0 {
		t.Fatalf("guessed findings: %v", ids(fs))
	}
	joined := strings.Join(warns, "\n")
	for _, want := range []string{"flask 1.0-foo-bar", "CVE-2024-2", "deb packages skipped: the distribution release is unknown"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
	if len(warns) != 3 {
		t.Errorf("want 3 deduplicated warnings, got %q", warns)
	}
}

// TestGoStdlib: the stdlib package matches the stdlib module with
// toolchain-style versions; remediation names the Go release.
func TestGoStdlib(t *testing.T) {
	s := newFakeStore().
		add(vuln.Affected{VulnID: "GO-2024-2887", Source: "osv:Go", Ecosystem: "Go", Package: "stdlib", Ranges: []vuln.Range{{Type: "SEMVER", Events: []vuln.Event{{Introduced: "0"}, {Fixed: "1.21.11"}, {Introduced: "1.22.0-0"}, {Fixed: "1.22.4"}}}}, FixState: vuln.FixStateFixed}).
		add(vuln.Affected{VulnID: "GO-2023-1840", Source: "osv:Go", Ecosystem: "Go", Package: "toolchain", Ranges: []vuln.Range{{Type: "SEMVER", Events: []vuln.Event{{Introduced: "0"}, {Fixed: "1.23.0"}}}}, FixState: vuln.FixStateFixed})
	app := pkg(inventory.TypeGolang, "Go", "stdlib", "go1.22.1")
	app.Path = "usr/local/bin/app"
	fs, _ := match(t, s, Options{}, app)
	if got := ids(fs); !slices.Equal(got, []string{"stdlib:GO-2024-2887"}) {
		t.Fatalf("findings %v", got)
	}
	if fs[0].Remediation != "upgrade Go toolchain to go1.22.4 and rebuild" {
		t.Errorf("remediation %q", fs[0].Remediation)
	}
	gocmd := app
	gocmd.Path = "usr/local/go/bin/go"
	if fs, _ := match(t, s, Options{}, gocmd); len(fs) != 2 {
		t.Errorf("go command: findings %v", ids(fs))
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := New(newFakeStore(), Options{}).Match(ctx, []inventory.Package{pkg(inventory.TypeNPM, "npm", "a", "1.0.0")}); err == nil {
		t.Fatal("want context error")
	}
}
