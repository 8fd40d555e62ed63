// Package dotnet catalogs NuGet packages from .NET dependency manifests:
// the *.deps.json files the SDK writes next to built applications and
// NuGet lock files (packages.lock.json).
package dotnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

const (
	// fileLimit bounds one manifest; real ones are well under a megabyte.
	fileLimit = 32 << 20
	// maxPackages caps the packages one file may declare.
	maxPackages = 100_000
)

// Analyzers returns the deps.json and packages.lock.json catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{
		ecosystem.FileCataloger{ID: "dotnet-deps-json", Limit: fileLimit, Match: isDepsJSON, Parse: ParseDepsJSON},
		ecosystem.FileCataloger{ID: "nuget-packages-lock", Limit: fileLimit, Match: isPackagesLock, Parse: ParsePackagesLock},
	}
}

func isDepsJSON(p string) bool {
	b := path.Base(p)
	return strings.HasSuffix(b, ".deps.json") && len(b) > len(".deps.json")
}

// trimBOM drops a UTF-8 byte order mark, which Windows tooling writes and
// encoding/json rejects.
func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

func isPackagesLock(p string) bool { return path.Base(p) == "packages.lock.json" }

// depsJSON is the part of a .deps.json that lists libraries, keyed
// "Name/Version".
type depsJSON struct {
	Libraries map[string]struct {
		Type string `json:"type"`
	} `json:"libraries"`
}

// ParseDepsJSON returns the NuGet packages (library type "package") of a
// .deps.json; projects and runtime packs are not NuGet packages.
func ParseDepsJSON(p string, content []byte) ([]inventory.Package, error) {
	var doc depsJSON
	if err := json.Unmarshal(trimBOM(content), &doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if doc.Libraries == nil {
		return nil, errors.New(`no "libraries" object`)
	}
	var c collector
	for key, lib := range doc.Libraries {
		if !strings.EqualFold(lib.Type, "package") {
			continue
		}
		name, version, ok := strings.Cut(key, "/")
		if !ok || name == "" || version == "" {
			return nil, fmt.Errorf("library key %q is not Name/Version", key)
		}
		if err := c.add(p, name, version); err != nil {
			return nil, err
		}
	}
	return c.sorted(), nil
}

// packagesLock is a NuGet lock file: per target framework, package name to
// its resolution.
type packagesLock struct {
	Version      int `json:"version"`
	Dependencies map[string]map[string]struct {
		Type     string `json:"type"`
		Resolved string `json:"resolved"`
	} `json:"dependencies"`
}

// ParsePackagesLock returns the resolved packages of a packages.lock.json,
// once per name@version across target frameworks. Project references carry
// no resolved version and are skipped.
func ParsePackagesLock(p string, content []byte) ([]inventory.Package, error) {
	var doc packagesLock
	if err := json.Unmarshal(trimBOM(content), &doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if doc.Dependencies == nil {
		return nil, errors.New(`no "dependencies" object`)
	}
	var c collector
	for _, deps := range doc.Dependencies {
		for name, dep := range deps {
			if dep.Resolved == "" || strings.EqualFold(dep.Type, "Project") {
				continue
			}
			if err := c.add(p, name, dep.Resolved); err != nil {
				return nil, err
			}
		}
	}
	return c.sorted(), nil
}
