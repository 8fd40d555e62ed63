package dotnet

import (
	"os"
	"path"
	"slices"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/ecosystem/ecosystemtest"
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

func TestCorpus(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"syft-TestLibrary/TestLibrary.deps.json", []string{
			"AWSSDK.Core@3.7.10.6", "Microsoft.Extensions.DependencyInjection.Abstractions@6.0.0",
			"Microsoft.Extensions.DependencyInjection@6.0.0", "Microsoft.Extensions.Logging.Abstractions@6.0.0",
			"Microsoft.Extensions.Logging@6.0.0", "Microsoft.Extensions.Options@6.0.0", "Microsoft.Extensions.Primitives@6.0.0",
			"Newtonsoft.Json@13.0.1", "Serilog.Sinks.Console@4.0.1", "Serilog@2.10.0",
			"System.Diagnostics.DiagnosticSource@6.0.0", "System.Runtime.CompilerServices.Unsafe@6.0.0"}},
		{"trivy-happy/happy.deps.json", []string{"Newtonsoft.Json@13.0.1"}},
		{"trivy-self-contained/self-contained.deps.json", []string{"Newtonsoft.Json@13.0.1"}},
		{"trivy-without-runtime/without-runtime.deps.json", []string{
			"JsonDiffPatch@2.0.61", "Libuv@1.9.1", "Microsoft.NETCore.App@1.1.2", "Microsoft.NETCore.Platforms@1.1.0",
			"NETStandard.Library@1.6.0", "System.Collections.Immutable@1.3.0", "System.Net.Http@4.1.0"}},
		{"syft-packages-lock/packages.lock.json", []string{
			"AutoMapper@13.0.1", "Microsoft.Extensions.DependencyInjection.Abstractions@9.0.0",
			"Microsoft.Extensions.Logging@9.0.0", "Microsoft.Extensions.Options@9.0.0", "Microsoft.Extensions.Primitives@9.0.0",
			"System.Runtime.CompilerServices.Unsafe@9.0.0", "bootstrap@5.0.0", "log4net@1.2.15", "log4net@2.0.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			content, err := os.ReadFile(corpus.Path(t, "pkgdb", "dotnet", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			p := "app/" + path.Base(tt.file)
			pkgs, err := ecosystemtest.Analyze(t, Analyzers(), p, content)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(pkgs); !slices.Equal(got, tt.want) {
				t.Errorf("packages:\n got %q\nwant %q", got, tt.want)
			}
			for _, pkg := range pkgs {
				if pkg.Ecosystem != "NuGet" || pkg.Type != inventory.TypeNuGet || pkg.Path != p ||
					pkg.PURL != "pkg:nuget/"+pkg.Name+"@"+pkg.Version {
					t.Errorf("bad fields: %+v", pkg)
				}
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string, []byte) ([]inventory.Package, error)
		input string
	}{
		{"deps truncated", ParseDepsJSON, `{"libraries": {"A/1.0": {"type": "package"`},
		{"deps no libraries", ParseDepsJSON, `{"targets": {}}`},
		{"deps bad key", ParseDepsJSON, `{"libraries": {"NoVersion": {"type": "package"}}}`},
		{"deps wrong shape", ParseDepsJSON, `{"libraries": []}`},
		{"lock not json", ParsePackagesLock, `version: 1`},
		{"lock no dependencies", ParsePackagesLock, `{"version": 1}`},
		{"lock wrong shape", ParsePackagesLock, `{"dependencies": {"net8.0": []}}`},
	}
	for _, tt := range tests {
		if pkgs, err := tt.parse("x", []byte(tt.input)); err == nil {
			t.Errorf("%s: no error, got %v", tt.name, pkgs)
		}
	}
}

func TestByteOrderMark(t *testing.T) {
	pkgs, err := ParseDepsJSON("a.deps.json", []byte("\xef\xbb\xbf"+`{"libraries":{"A/1.0.0":{"type":"package"}}}`))
	if err != nil || len(pkgs) != 1 {
		t.Errorf("got %v, %v", pkgs, err)
	}
}

func TestClaims(t *testing.T) {
	tests := map[string][2]bool{
		"app/App.deps.json":          {true, false},
		"app/.deps.json":             {false, false},
		"src/packages.lock.json":     {false, true},
		"src/App.runtimeconfig.json": {false, false},
	}
	for p, want := range tests {
		for i, a := range Analyzers() {
			if got := a.Claims(p, 0o644, 10); got != want[i] {
				t.Errorf("%s.Claims(%s) = %v", a.Name(), p, got)
			}
		}
	}
}
