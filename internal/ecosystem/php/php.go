// Package php catalogs PHP packages managed by Composer: those installed
// under vendor/ (vendor/composer/installed.json) and those pinned in
// composer.lock.
package php

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

const (
	fileLimit   = 64 << 20
	maxPackages = 100_000
)

// Analyzers returns the Composer catalogers.
func Analyzers() []inventory.Analyzer {
	return []inventory.Analyzer{
		ecosystem.FileCataloger{ID: "php-composer-installed", Limit: fileLimit, Match: isInstalledJSON, Parse: parseInstalled},
		ecosystem.FileCataloger{ID: "php-composer-lock", Limit: fileLimit, Match: isComposerLock, Parse: parseLock},
	}
}

// isInstalledJSON claims <vendor dir>/composer/installed.json; the vendor
// directory is configurable, its composer/ subfolder is not.
func isInstalledJSON(path string) bool {
	return path == "composer/installed.json" || strings.HasSuffix(path, "/composer/installed.json")
}

func isComposerLock(path string) bool {
	return path == "composer.lock" || strings.HasSuffix(path, "/composer.lock")
}

// composerPackage is one package entry, the same shape in installed.json
// and composer.lock.
type composerPackage struct {
	Name              string          `json:"name"`
	Version           string          `json:"version"`
	VersionNormalized string          `json:"version_normalized"`
	License           json.RawMessage `json:"license"`
}

// installedV2 is Composer 2's installed.json; Composer 1 wrote the bare
// package array.
type installedV2 struct {
	Packages        []composerPackage `json:"packages"`
	DevPackageNames []string          `json:"dev-package-names"`
}

func parseInstalled(path string, content []byte) ([]inventory.Package, error) {
	trimmed := strings.TrimLeft(string(content[:min(len(content), 4096)]), " \t\r\n\ufeff")
	if strings.HasPrefix(trimmed, "[") {
		var v1 []composerPackage
		if err := json.Unmarshal(content, &v1); err != nil {
			return nil, err
		}
		return collect(path, v1, nil, nil)
	}
	var v2 installedV2
	if err := json.Unmarshal(content, &v2); err != nil {
		return nil, err
	}
	if v2.Packages == nil {
		return nil, errors.New(`no "packages": not a Composer installed.json`)
	}
	dev := map[string]bool{}
	for _, n := range v2.DevPackageNames {
		dev[strings.ToLower(n)] = true
	}
	return collect(path, v2.Packages, nil, dev)
}

type composerLock struct {
	ContentHash *string           `json:"content-hash"`
	Packages    []composerPackage `json:"packages"`
	PackagesDev []composerPackage `json:"packages-dev"`
}

func parseLock(path string, content []byte) ([]inventory.Package, error) {
	var lock composerLock
	if err := json.Unmarshal(content, &lock); err != nil {
		return nil, err
	}
	if lock.Packages == nil && lock.PackagesDev == nil && lock.ContentHash == nil {
		return nil, errors.New(`no "packages": not a composer.lock`)
	}
	return collect(path, lock.Packages, lock.PackagesDev, nil)
}

// collect turns entries into packages; devNames marks installed packages
// that Composer recorded as dev-only.
func collect(path string, prod, dev []composerPackage, devNames map[string]bool) ([]inventory.Package, error) {
	if len(prod)+len(dev) > maxPackages {
		return nil, fmt.Errorf("more than %d packages", maxPackages)
	}
	var pkgs []inventory.Package
	for i, e := range slices.Concat(prod, dev) {
		name, version := strings.TrimSpace(e.Name), strings.TrimSpace(e.Version)
		if name == "" || version == "" {
			continue
		}
		p := newPackage(name, version, path, licenses(e.License))
		meta := map[string]string{}
		if e.VersionNormalized != "" {
			meta["composer.version_normalized"] = e.VersionNormalized
		}
		if i >= len(prod) || devNames[strings.ToLower(name)] {
			meta["composer.dev"] = "true"
		}
		if len(meta) > 0 {
			p.Metadata = meta
		}
		pkgs = append(pkgs, p)
	}
	ecosystem.SortPackages(pkgs)
	return pkgs, nil
}

// licenses accepts "license": "MIT" and "license": ["MIT", "GPL-2.0"].
func licenses(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			return nil
		}
		list = []string{s}
	}
	return slices.DeleteFunc(list, func(s string) bool { return strings.TrimSpace(s) == "" })
}

// newPackage builds pkg:composer/vendor/name@version; Packagist names are
// case-insensitive and stored lower case.
func newPackage(name, version, path string, licenses []string) inventory.Package {
	namespace, short, _ := strings.Cut(strings.ToLower(name), "/")
	if short == "" {
		namespace, short = "", namespace
	}
	return inventory.Package{
		Name:      name,
		Version:   version,
		Type:      inventory.TypeComposer,
		Ecosystem: ecosystem.Packagist,
		PURL:      packageurl.NewPackageURL(packageurl.TypeComposer, namespace, short, version, nil, "").ToString(),
		Path:      path,
		Licenses:  licenses,
	}
}
