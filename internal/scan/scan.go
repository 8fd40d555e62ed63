// Package scan is Vigil's scan engine: it reads an image into an inventory,
// matches the packages against a vulnerability store, runs best-practice
// checks and secret detection, applies exceptions and evaluates the gate.
// The CLI (`vigil image`, `vigil lint`, `vigil sbom-scan`) and the server
// call the same functions, so a finding looks the same wherever it shows.
//
// Everything here is stateless: a Matcher (with its lookup cache) and the
// analyzers are safe to share between concurrent scans.
package scan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/urlcred"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// Options describe one scan. The zero value inventories packages only.
type Options struct {
	// Image tunes how the image is fetched and walked.
	Image image.Options
	// Analyzers run over every layer; nil means the package catalogers
	// plus the analyzers the enabled Extras need.
	Analyzers []inventory.Analyzer
	// Matcher matches packages; nil skips vulnerability matching (lint).
	Matcher *match.Matcher
	// DB describes the store behind Matcher, for the report.
	DB *result.DBInfo
	// DBNotJudged are the DB's own gaps (feeds whose last update failed,
	// feeds.CheckDB), added to every report's NotJudged.
	DBNotJudged []result.NotJudged
	// Extras are the optional stages: checks, secrets, policy and gate.
	Extras
	// PkgTypes limits the packages listed and matched: "os", "library"
	// or both (--pkg-types); empty means both.
	PkgTypes []string
	// ToolVersion is written into the report.
	ToolVersion string
	// Now is the clock for policy expiry and the report time (default time.Now).
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// ErrNoImage wraps every failure to read the image, so callers can tell a
// scan that could not run from a policy failure.
var ErrNoImage = errors.New("cannot read image")

// Inventory reads ref with the analyzers of opts.
func Inventory(ctx context.Context, ref string, opts Options) (*inventory.Inventory, error) {
	analyzers := opts.Analyzers
	if analyzers == nil {
		analyzers = opts.analyzers()
	}
	inv, err := image.Read(ctx, ref, analyzers, opts.Image)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrNoImage, urlcred.RedactText(ref), urlcred.Error(err))
	}
	return inv, nil
}

// Image inventories ref and evaluates it: the whole of `vigil image`.
func Image(ctx context.Context, ref string, opts Options) (*result.Report, error) {
	inv, err := Inventory(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	return Evaluate(ctx, inv, opts)
}

// Evaluate turns an inventory into a report: match, checks, secrets,
// exceptions, summary and gate. The server calls it again on a stored
// inventory when the vulnerability DB changes, without pulling the image.
func Evaluate(ctx context.Context, inv *inventory.Inventory, opts Options) (*result.Report, error) {
	now := opts.now()
	r := &result.Report{
		SchemaVersion:   result.SchemaVersion,
		Tool:            result.Tool{Name: "vigil", Version: opts.ToolVersion},
		CreatedAt:       now.UTC(),
		Artifact:        inv.Artifact,
		Packages:        inv.Packages,
		Vulnerabilities: []vuln.Finding{},
		DB:              opts.DB,
		Warnings:        append([]string(nil), inv.Warnings...),
	}
	r.Packages = filterPkgTypes(r.Packages, opts.PkgTypes)
	if r.Packages == nil {
		r.Packages = []inventory.Package{}
	}
	if opts.Matcher != nil {
		findings, warns, err := opts.Matcher.Match(ctx, r.Packages)
		if err != nil {
			return nil, fmt.Errorf("matching vulnerabilities: %w", err)
		}
		r.Vulnerabilities = findings
		policy.SuppressOwned(r)
		r.Warnings = append(r.Warnings, warns...)
		nj, err := notJudged(ctx, inv, opts.Matcher.Store(), now)
		if err != nil {
			return nil, fmt.Errorf("checking the DB's coverage: %w", err)
		}
		r.NotJudged = append(append(r.NotJudged, opts.DBNotJudged...), nj...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts.Extras.apply(inv, r, now)
	return r, nil
}

// Package types of --pkg-types, Trivy's names.
const (
	PkgTypeOS      = "os"
	PkgTypeLibrary = "library"
)

// filterPkgTypes keeps the packages of the listed types (all when none).
func filterPkgTypes(pkgs []inventory.Package, types []string) []inventory.Package {
	os, lib := len(types) == 0, len(types) == 0
	for _, t := range types {
		os = os || t == PkgTypeOS
		lib = lib || t == PkgTypeLibrary
	}
	if os && lib {
		return pkgs
	}
	out := make([]inventory.Package, 0, len(pkgs))
	for _, p := range pkgs {
		if p.IsOS() == os {
			out = append(out, p)
		}
	}
	return out
}
