// Package catalog assembles the analyzers a scan runs over every layer: the
// OS detector, each ecosystem's catalogers and, when asked, the
// best-practice and secret analyzers. The CLI and the server build their
// analyzer list here so both scan exactly the same way.
package catalog

import (
	"github.com/vigil-scan/vigil/internal/ecosystem/alpine"
	"github.com/vigil-scan/vigil/internal/ecosystem/debian"
	"github.com/vigil-scan/vigil/internal/ecosystem/dotnet"
	"github.com/vigil-scan/vigil/internal/ecosystem/golang"
	"github.com/vigil-scan/vigil/internal/ecosystem/java"
	"github.com/vigil-scan/vigil/internal/ecosystem/npm"
	"github.com/vigil-scan/vigil/internal/ecosystem/php"
	"github.com/vigil-scan/vigil/internal/ecosystem/python"
	"github.com/vigil-scan/vigil/internal/ecosystem/rpm"
	"github.com/vigil-scan/vigil/internal/ecosystem/ruby"
	"github.com/vigil-scan/vigil/internal/ecosystem/rust"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/osrelease"
)

// Packages returns the OS detector and every package cataloger: what
// `vigil sbom` runs.
func Packages() []inventory.Analyzer {
	all := []inventory.Analyzer{osrelease.Analyzer()}
	for _, eco := range [][]inventory.Analyzer{
		alpine.Analyzers(), debian.Analyzers(), rpm.Analyzers(),
		golang.Analyzers(), python.Analyzers(), npm.Analyzers(), java.Analyzers(),
		ruby.Analyzers(), rust.Analyzers(), dotnet.Analyzers(), php.Analyzers(),
	} {
		all = append(all, eco...)
	}
	return all
}
