// Package reporttest holds a realistic scan report used by the report and
// sbomin tests: an Alpine 3.10 image with OS, Go and Python packages,
// findings with CVSS, fix states and suppressions, checks and secrets.
package reporttest

import (
	"time"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

var (
	baseLayer = &inventory.LayerRef{
		Index: 0, DiffID: "sha256:1bfeebd65323b8ddf5bd6a51cc7097b72788bc982e9ab3280d53d3c613adffa7",
		CreatedBy: "/bin/sh -c #(nop) ADD file:a86aea1f3a7d68f6ae03397b99ea77f2e9ee901c5c59e59f76f93adbb4035913 in / ", Base: true,
	}
	apkLayer = &inventory.LayerRef{
		Index: 1, DiffID: "sha256:5216338b40a7b96416b8b9858974bbe4acc3096ee60acbc4dfb1ee02aecceb10",
		CreatedBy: "RUN /bin/sh -c apk add --no-cache curl python3 # buildkit",
	}
	appLayer = &inventory.LayerRef{
		Index: 2, DiffID: "sha256:9f4b6a3c7e2d1f0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
		CreatedBy: "COPY app /usr/local/bin/app # buildkit",
	}
)

// Dockerfile is the Dockerfile the fixture image was built from.
const Dockerfile = `# syntax=docker/dockerfile:1
FROM alpine:3.10.4
RUN apk add --no-cache \
    curl python3
COPY app /usr/local/bin/app
USER app
CMD ["/usr/local/bin/app"]
`

func pkg(name, version, typ, eco, purl, path string, layer *inventory.LayerRef, lic ...string) inventory.Package {
	return inventory.Package{Name: name, Version: version, Type: typ, Ecosystem: eco, PURL: purl, Path: path, Layer: layer, Licenses: lic}
}

// Packages are the fixture's inventory.
func Packages() []inventory.Package {
	const apkDB = "lib/apk/db/installed"
	ps := []inventory.Package{
		pkg("musl", "1.1.22-r3", inventory.TypeApk, "Alpine:v3.10", "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4", apkDB, baseLayer, "MIT"),
		pkg("openssl", "1.1.1d-r2", inventory.TypeApk, "Alpine:v3.10", "pkg:apk/alpine/libssl1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4&upstream=openssl", apkDB, baseLayer, "OpenSSL"),
		pkg("curl", "7.66.0-r0", inventory.TypeApk, "Alpine:v3.10", "pkg:apk/alpine/curl@7.66.0-r0?arch=x86_64&distro=3.10.4", apkDB, apkLayer, "MIT"),
		pkg("busybox", "1.30.1-r3", inventory.TypeApk, "Alpine:v3.10", "pkg:apk/alpine/busybox@1.30.1-r3?arch=x86_64&distro=3.10.4", apkDB, baseLayer, "GPL-2.0-only"),
		pkg("python3", "3.7.10-r0", inventory.TypeApk, "Alpine:v3.10", "pkg:apk/alpine/python3@3.7.10-r0?arch=x86_64&distro=3.10.4", apkDB, apkLayer, "PSF"),
		pkg("golang.org/x/net", "v0.0.0-20190620200207-3b0461eec859", inventory.TypeGolang, "Go", "pkg:golang/golang.org/x/net@v0.0.0-20190620200207-3b0461eec859", "usr/local/bin/app", appLayer, "BSD-3-Clause"),
		pkg("stdlib", "v1.15.2", inventory.TypeGolang, "Go", "pkg:golang/stdlib@v1.15.2", "usr/local/bin/app", appLayer),
		pkg("requests", "2.19.1", inventory.TypePyPI, "PyPI", "pkg:pypi/requests@2.19.1", "usr/lib/python3.7/site-packages/requests-2.19.1.dist-info/METADATA", apkLayer, "Apache 2.0"),
		pkg("urllib3", "1.24.1", inventory.TypePyPI, "PyPI", "pkg:pypi/urllib3@1.24.1", "usr/lib/python3.7/site-packages/urllib3-1.24.1.dist-info/METADATA", apkLayer, "MIT OR Apache-2.0"),
		pkg("py3-yaml", "5.1-r0", inventory.TypeApk, "Alpine:v3.10", "pkg:apk/alpine/py3-yaml@5.1-r0?arch=x86_64&distro=3.10.4&upstream=py-yaml", apkDB, apkLayer, "MIT"),
		pkg("PyYAML", "5.1", inventory.TypePyPI, "PyPI", "pkg:pypi/pyyaml@5.1", "usr/lib/python3.7/site-packages/PyYAML-5.1-py3.7.egg-info/PKG-INFO", apkLayer, "MIT"),
	}
	// py3-yaml installed PyYAML: apk patches it, so its PyPI findings are
	// suppressed as os-package.
	ps[9].Source = &inventory.SourcePackage{Name: "py-yaml", Version: "5.1-r0"}
	ps[9].Arch = "x86_64"
	ps[10].Owner = &inventory.Owner{Type: inventory.TypeApk, Name: "py3-yaml"}
	ps[1].Name = "libssl1.1"
	ps[1].Source = &inventory.SourcePackage{Name: "openssl", Version: "1.1.1d-r2"}
	ps[1].Arch = "x86_64"
	return ps
}

func ref(p inventory.Package) vuln.PackageRef {
	return vuln.PackageRef{Name: p.Name, Version: p.Version, Type: p.Type, Ecosystem: p.Ecosystem, PURL: p.PURL, Path: p.Path, Source: p.Source}
}

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// Report returns a fresh copy of the fixture report.
func Report() *result.Report {
	ps := Packages()
	byName := map[string]inventory.Package{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	findings := []vuln.Finding{
		{
			ID: "CVE-2020-1967", Title: "openssl: Segmentation fault in SSL_check_chain causes denial of service",
			Description: "Server or client applications that call the SSL_check_chain() function during or after a TLS 1.3 handshake may crash due to a NULL pointer dereference.",
			Package:     ref(byName["libssl1.1"]), FixedVersions: []string{"1.1.1g-r0"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityHigh, SeveritySource: "cvss:3.1",
			CVSS:       []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5, Source: "nvd"}},
			References: []string{"https://www.openssl.org/news/secadv/20200421.txt", "https://nvd.nist.gov/vuln/detail/CVE-2020-1967"},
			Published:  date("2020-04-21"), Modified: date("2022-07-21"), Layer: baseLayer, DataSources: []string{"alpine-secdb"},
			KEV: nil, EPSS: &vuln.EPSS{Score: 0.61, Percentile: 0.97},
		},
		{
			ID: "CVE-2019-5482", Title: "curl: heap buffer overflow in function tftp_receive_packet()",
			Package: ref(byName["curl"]), FixedVersions: []string{"7.66.0-r1"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityCritical, SeveritySource: "cvss:3.1",
			CVSS: []vuln.CVSS{
				{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Source: "nvd"},
				{Version: "2.0", Vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", Score: 7.5, Source: "nvd"},
			},
			Layer: apkLayer, DataSources: []string{"alpine-secdb"},
		},
		{
			ID: "CVE-2021-3449", Title: "openssl: NULL pointer dereference in signature_algorithms processing",
			Package: ref(byName["libssl1.1"]), FixState: vuln.FixStateNotFixed,
			Severity: vuln.SeverityMedium, SeveritySource: "vendor:alpine",
			CVSS:  []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 5.9, Source: "nvd"}},
			Layer: baseLayer, DataSources: []string{"alpine-secdb"},
		},
		{
			ID: "CVE-2022-28391", Title: "busybox: remote attackers may execute arbitrary code if netstat is used",
			Package: ref(byName["busybox"]), FixedVersions: []string{"1.30.1-r5"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityLow, SeveritySource: "vendor:alpine",
			// A 9.8 CVSS score on a vendor-LOW finding: reports must show LOW.
			CVSS:  []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Source: "nvd"}},
			Layer: baseLayer,
			Suppressed: &vuln.Suppression{Kind: "vex", Rule: "vex.openvex.json#0", Status: "not_affected",
				Justification: "vulnerable_code_not_in_execute_path", Reason: "netstat is never run"},
		},
		{
			ID: "CVE-2022-41723", Aliases: []string{"GO-2023-1571", "GHSA-vvpx-j8f3-3w6h"},
			Title:       "golang.org/x/net/http2: avoid quadratic complexity in HPACK decoding",
			Description: "A maliciously crafted HTTP/2 stream could cause excessive CPU consumption in the HPACK decoder, sufficient to cause a denial of service from a small number of small requests.",
			Package:     ref(byName["golang.org/x/net"]), FixedVersions: []string{"v0.7.0"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityHigh, SeveritySource: "cvss:3.1",
			CVSS:       []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5, Source: "ghsa"}},
			References: []string{"https://go.dev/issue/57855", "https://pkg.go.dev/vuln/GO-2023-1571"},
			Published:  date("2023-02-28"), Layer: appLayer, DataSources: []string{"osv:Go"},
		},
		{
			ID: "GO-2021-0067", Title: "archive/zip: panic when calling Reader.Open",
			Package: ref(byName["stdlib"]), FixedVersions: []string{"v1.15.5", "v1.16.0"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityUnknown, SeveritySource: "osv:Go", Layer: appLayer, DataSources: []string{"osv:Go"},
		},
		{
			ID: "CVE-2023-32681", Aliases: []string{"GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"},
			Title:   "Unintended leak of Proxy-Authorization header in requests",
			Package: ref(byName["requests"]), FixedVersions: []string{"2.31.0"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityMedium, SeveritySource: "cvss:3.1",
			CVSS:  []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", Score: 6.1, Source: "nvd"}},
			Layer: apkLayer, DataSources: []string{"osv:PyPI"},
			Suppressed: &vuln.Suppression{Kind: "policy", Rule: ".vigil.yaml:12", Reason: "proxy not used",
				Expires: date("2030-01-01")},
		},
		{
			ID: "CVE-2019-11236", Aliases: []string{"PYSEC-2019-133"}, Title: "CRLF injection in urllib3",
			Package: ref(byName["urllib3"]), FixedVersions: []string{"1.24.3"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityMedium, SeveritySource: "cvss:3.0",
			CVSS:  []vuln.CVSS{{Version: "3.0", Vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", Score: 6.1, Source: "nvd"}},
			Layer: apkLayer, DataSources: []string{"osv:PyPI"},
		},
		{
			ID: "CVE-2020-1747", Aliases: []string{"PYSEC-2020-96"}, Title: "PyYAML: arbitrary code execution through full_load",
			Package: ref(byName["PyYAML"]), FixedVersions: []string{"5.3.1"}, FixState: vuln.FixStateFixed,
			Severity: vuln.SeverityCritical, SeveritySource: "cvss:3.1",
			CVSS:  []vuln.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8, Source: "nvd"}},
			Layer: apkLayer, DataSources: []string{"osv:PyPI"},
			Suppressed: &vuln.Suppression{Kind: "os-package", Rule: "apk:py3-yaml",
				Reason: "installed by the apk package py3-yaml: its distribution's advisories apply",
				Owner:  &inventory.Owner{Type: inventory.TypeApk, Name: "py3-yaml"}},
		},
	}
	r := &result.Report{
		SchemaVersion: result.SchemaVersion,
		Tool:          result.Tool{Name: "vigil", Version: "0.3.0"},
		CreatedAt:     time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC),
		Artifact: inventory.Artifact{
			Name:     "registry.example.com/team/app:1.4.2",
			Digest:   "sha256:e7d92cdc71feacf90708cb59182d0df1b911f8ae022d29e8e95d75ca6a99776a",
			ImageID:  "sha256:a187dde48cd289ac374ad8539930628314bc581a481cdb41409c9289419ddb72",
			Platform: "linux/amd64",
			OS:       inventory.OS{Family: "alpine", Version: "3.10.4", Name: "Alpine Linux v3.10"},
			Layers: []inventory.Layer{
				{Index: 0, DiffID: baseLayer.DiffID, CreatedBy: baseLayer.CreatedBy, Base: true, Size: 2797541},
				{Index: 1, DiffID: apkLayer.DiffID, CreatedBy: apkLayer.CreatedBy, Size: 18342012},
				{Index: 2, DiffID: appLayer.DiffID, CreatedBy: appLayer.CreatedBy, Size: 7340032},
			},
		},
		Packages:        ps,
		Vulnerabilities: findings,
		Checks: []result.CheckResult{
			{Code: "CIS-DI-0001", Title: "Create a user for the container", Level: result.LevelPass},
			{Code: "CIS-DI-0006", Title: "Add HEALTHCHECK instruction to the container image", Level: result.LevelWarn, Alerts: []string{"not found HEALTHCHECK statement"}},
			{Code: "DKL-DI-0006", Title: "Avoid latest tag", Level: result.LevelWarn, Alerts: []string{"Avoid 'latest' tag"},
				Suppressed: &vuln.Suppression{Kind: "allowlist", Rule: ".github/containerscan/allowedlist.yaml"}},
			{Code: "CIS-DI-0010", Title: "Do not store credential in environment variables/files", Level: result.LevelFatal,
				Alerts: []string{"Suspicious ENV key found : AWS_SECRET_ACCESS_KEY", "Suspicious filename found : app/.env"}},
		},
		Secrets: []result.Secret{
			{Rule: "aws-access-key-id", Title: "AWS Access Key ID", Severity: "CRITICAL", Path: "app/.env", Line: 3,
				Match: "AWS_ACCESS_KEY_ID=AKIA************MPLE", Layer: appLayer},
			{Rule: "github-pat", Title: "GitHub Personal Access Token", Severity: "CRITICAL", Path: "config:Env",
				Match: "GITHUB_TOKEN=ghp_****************************"},
		},
		Warnings: []string{"usr/lib/python3.7/site-packages/broken.dist-info/METADATA: missing Version"},
	}
	r.Summary.Gate = &result.Gate{Threshold: vuln.SeverityHigh, Failed: true, Reasons: []string{"secret aws-access-key-id in app/.env"}}
	r.Summarize()
	return r
}
