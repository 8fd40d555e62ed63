package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/vuln"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// searchOptions are the flags of `vigil db search` and `vigil explain`.
type searchOptions struct {
	db            dbFlags
	Ecosystem     string
	Package       string
	Version       string
	SourcePackage string
	SourceVersion string
	Vuln          string
	Format        string
}

func (o *searchOptions) register(cmd *cobra.Command, app *App) {
	o.db.register(cmd, app)
	fl := cmd.Flags()
	fl.StringVar(&o.Ecosystem, "ecosystem", "", "OSV ecosystem, with the release for distributions: Debian:11, Alpine:v3.10, AlmaLinux:9, PyPI, Go, npm ...; a distribution without release (Debian) matches all its releases in a search")
	fl.StringVar(&o.Package, "package", "", "package name to explain (with --version and --ecosystem)")
	fl.StringVar(&o.Version, "version", "", "installed version to explain")
	fl.StringVar(&o.SourcePackage, "source-package", "", "source package the binary package was built from (Debian Source:, Alpine origin, rpm SOURCERPM name)")
	fl.StringVar(&o.SourceVersion, "source-version", "", "version of the source package (Debian; default --version)")
	fl.StringVar(&o.Vuln, "vuln", "", "explain only this advisory id (or alias)")
	fl.StringVarP(&o.Format, "format", "f", "table", "table or json")
}

func newDBSearchCmd(app *App) *cobra.Command {
	var o searchOptions
	cmd := &cobra.Command{
		Use:   "search CVE-ID|PACKAGE",
		Short: "Show what the DB knows about a vulnerability or a package (and why a version matches)",
		Long: `Search shows the DB's records for a vulnerability id (or any alias: CVE, GHSA,
GO-, PYSEC-, RUSTSEC-, DSA ...): its description, severity and CVSS, EPSS and
KEV, and every affected package with its ranges, fix and the feed it came from.
Given a package name instead, it lists that package's advisories per ecosystem.

With --package and --version it explains instead, like 'vigil explain': for each
advisory the package is looked up under, whether the version matches, and which
range or rule decided (source package, distribution release, backport).`,
		Example: `  vigil db search CVE-2021-3711
  vigil db search GHSA-r9hx-vwmv-q579 --format json
  vigil db search openssl --ecosystem Debian:10
  vigil db search --ecosystem Debian:10 --package libssl1.1 --source-package openssl --version 1.1.1d-0+deb10u7`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Package != "" || o.Version != "" {
				if len(args) > 0 {
					o.Vuln = args[0]
				}
				return runExplain(cmd, app, &o)
			}
			if len(args) != 1 {
				return &ExitError{Code: ExitScanFailed, Err: errors.New("give a vulnerability id or a package name (or --package and --version)")}
			}
			return runSearch(cmd, app, &o, args[0])
		},
	}
	o.register(cmd, app)
	return cmd
}

func newExplainCmd(app *App) *cobra.Command {
	var o searchOptions
	cmd := &cobra.Command{
		Use:   "explain [VULN-ID] --ecosystem E --package NAME --version V",
		Short: "Say why a package version matches an advisory or not",
		Long: `Explain looks a package up in the DB the way a scan does (the source package
for distributions, the distribution release, the ecosystem's version rules)
and says, for every advisory found, whether the version is affected and which
range or rule decided: a distribution's fixed version (backports count), an
affected range, a list of versions, or a vendor's "not affected".`,
		Example: `  vigil explain --ecosystem Debian:10 --package libssl1.1 --source-package openssl --version 1.1.1d-0+deb10u7
  vigil explain CVE-2022-2068 --ecosystem Debian:10 --package openssl --version 1.1.1n-0+deb10u3
  vigil explain --ecosystem PyPI --package Django --version 3.2.1 --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Vuln = args[0]
			}
			return runExplain(cmd, app, &o)
		},
	}
	o.register(cmd, app)
	return cmd
}

// searchResult is the JSON form of `vigil db search ID`.
type searchResult struct {
	Query           string                     `json:"query"`
	Vulnerabilities []*vuln.Vulnerability      `json:"vulnerabilities,omitempty"`
	Enrichment      map[string]vuln.Enrichment `json:"enrichment,omitempty"`
	Affected        []vuln.Affected            `json:"affected"`
}

func runSearch(cmd *cobra.Command, app *App, o *searchOptions, query string) error {
	if o.Format != "table" && o.Format != "json" {
		return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("--format %q: table or json", o.Format)}
	}
	db, err := o.db.open(app)
	if err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	defer db.Close()
	ctx := cmd.Context()
	res := searchResult{Query: query, Enrichment: map[string]vuln.Enrichment{}}
	ids, err := db.FindIDs(ctx, query)
	if err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	for _, id := range ids {
		v, err := db.Vulnerability(ctx, id)
		if err != nil {
			return &ExitError{Code: ExitScanFailed, Err: err}
		}
		res.Vulnerabilities = append(res.Vulnerabilities, v)
		if e, err := db.Enrichment(ctx, id); err == nil && (len(e.CVSS) > 0 || e.EPSS != nil || e.KEV != nil) {
			res.Enrichment[id] = e
		}
		recs, err := db.AffectedByVuln(ctx, id)
		if err != nil {
			return &ExitError{Code: ExitScanFailed, Err: err}
		}
		res.Affected = append(res.Affected, filterEcosystem(recs, o.Ecosystem)...)
	}
	if len(ids) == 0 {
		// Not an advisory id: a package name, stored normalised.
		name := query
		if o.Ecosystem != "" {
			name = ecosystem.NormalizeName(o.Ecosystem, query)
		}
		if res.Affected, err = db.AffectedByPackage(ctx, name, o.Ecosystem); err != nil {
			return &ExitError{Code: ExitScanFailed, Err: err}
		}
	}
	if len(res.Vulnerabilities) == 0 && len(res.Affected) == 0 {
		return &ExitError{Code: ExitPolicy, Err: fmt.Errorf("the DB (%s) has no advisory and no package named %q%s", db.Path(), query, inEco(o.Ecosystem))}
	}
	if o.Format == "json" {
		enc := json.NewEncoder(app.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	writeSearch(app.Out, &res)
	return nil
}

func inEco(eco string) string {
	if eco == "" {
		return ""
	}
	return " in " + eco
}

func filterEcosystem(recs []vuln.Affected, eco string) []vuln.Affected {
	if eco == "" {
		return recs
	}
	var out []vuln.Affected
	for _, a := range recs {
		if a.Ecosystem == eco || ecosystem.Base(a.Ecosystem) == eco {
			out = append(out, a)
		}
	}
	return out
}

func writeSearch(w io.Writer, res *searchResult) {
	for _, v := range res.Vulnerabilities {
		fmt.Fprintf(w, "%s", v.ID)
		if len(v.Aliases) > 0 {
			fmt.Fprintf(w, "  (aliases: %s)", strings.Join(v.Aliases, ", "))
		}
		fmt.Fprintln(w)
		if v.Summary != "" {
			fmt.Fprintf(w, "  summary:    %s\n", v.Summary)
		}
		if len(v.Related) > 0 {
			fmt.Fprintf(w, "  related:    %s\n", strings.Join(v.Related, ", "))
		}
		cvss := append([]vuln.CVSS(nil), v.CVSS...)
		e, hasE := res.Enrichment[v.ID]
		if hasE {
			cvss = append(cvss, e.CVSS...)
		}
		for _, c := range cvss {
			fmt.Fprintf(w, "  cvss %-5s  %.1f %s (%s)\n", c.Version, c.Score, c.Vector, cmp.Or(c.Source, "?"))
		}
		if hasE && e.EPSS != nil {
			fmt.Fprintf(w, "  epss:       %.4f (percentile %.2f)\n", e.EPSS.Score, e.EPSS.Percentile)
		}
		if hasE && e.KEV != nil {
			fmt.Fprintf(w, "  kev:        known exploited, added %s\n", e.KEV.DateAdded)
		}
		if !v.Published.IsZero() {
			fmt.Fprintf(w, "  published:  %s\n", v.Published.Format("2006-01-02"))
		}
		fmt.Fprintf(w, "  source:     %s\n", v.Source)
		for i, r := range v.References {
			if i == 5 {
				fmt.Fprintf(w, "  ... %d more references\n", len(v.References)-5)
				break
			}
			fmt.Fprintf(w, "  ref:        %s\n", r)
		}
	}
	if len(res.Affected) == 0 {
		fmt.Fprintln(w, "\nno affected package records")
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ECOSYSTEM\tPACKAGE\tVULNERABILITY\tAFFECTED\tFIX STATE\tSEVERITY\tADVISORY\tSOURCE")
	for _, a := range res.Affected {
		var ranges []string
		for _, r := range a.Ranges {
			ranges = append(ranges, match.DescribeRange(r))
		}
		if len(a.Versions) > 0 {
			ranges = append(ranges, fmt.Sprintf("%d listed versions", len(a.Versions)))
		}
		if len(ranges) == 0 {
			ranges = []string{"all versions"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Ecosystem, a.Package, a.VulnID, strings.Join(ranges, "; "),
			cmp.Or(string(a.FixState), "-"), cmp.Or(a.Severity, "-"), cmp.Or(a.Advisory, "-"), a.Source)
	}
	tw.Flush()
}

// osTypes maps distributions to their package type, so an explained
// package is matched as an OS package (source package, release).
var osTypes = map[string]string{
	"Alpine": inventory.TypeApk, "Wolfi": inventory.TypeApk, "Chainguard": inventory.TypeApk,
	"Debian": inventory.TypeDeb, "Ubuntu": inventory.TypeDeb,
	"AlmaLinux": inventory.TypeRPM, "Rocky Linux": inventory.TypeRPM, "Red Hat": inventory.TypeRPM,
	"SUSE": inventory.TypeRPM, "openSUSE": inventory.TypeRPM,
}

func runExplain(cmd *cobra.Command, app *App, o *searchOptions) error {
	if o.Package == "" || o.Version == "" || o.Ecosystem == "" {
		return &ExitError{Code: ExitScanFailed, Err: errors.New("explain needs --ecosystem, --package and --version")}
	}
	if o.Format != "table" && o.Format != "json" {
		return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("--format %q: table or json", o.Format)}
	}
	db, err := o.db.open(app)
	if err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	defer db.Close()
	eco, err := knownEcosystem(cmd, db, o.Ecosystem)
	if err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	p := inventory.Package{Name: o.Package, Version: o.Version, Ecosystem: eco, Type: osTypes[ecosystem.Base(eco)]}
	if p.IsOS() && !strings.Contains(eco, ":") {
		return &ExitError{Code: ExitScanFailed, Err: fmt.Errorf("--ecosystem %s: give the release too (e.g. %s:11 or Alpine:v3.10): distribution records are per release", eco, eco)}
	}
	if o.SourcePackage != "" || o.SourceVersion != "" {
		p.Source = &inventory.SourcePackage{Name: cmp.Or(o.SourcePackage, o.Package), Version: cmp.Or(o.SourceVersion, o.Version)}
	}
	ex, err := match.New(db, match.Options{}).Explain(cmd.Context(), p)
	if err != nil {
		return &ExitError{Code: ExitScanFailed, Err: err}
	}
	if o.Vuln != "" {
		if ex.Verdicts, err = onlyVuln(cmd, db, ex.Verdicts, o.Vuln); err != nil {
			return &ExitError{Code: ExitScanFailed, Err: err}
		}
	}
	if o.Format == "json" {
		enc := json.NewEncoder(app.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(ex)
	}
	writeExplanation(app.Out, ex, o.Vuln)
	return nil
}

// onlyVuln keeps the verdicts of one advisory, found by id or alias.
func onlyVuln(cmd *cobra.Command, db *vulndb.DB, vs []match.Verdict, id string) ([]match.Verdict, error) {
	ids, err := db.FindIDs(cmd.Context(), id)
	if err != nil {
		return nil, err
	}
	ids = append(ids, id)
	var out []match.Verdict
	for _, v := range vs {
		for _, want := range ids {
			if strings.EqualFold(v.VulnID, want) {
				out = append(out, v)
				break
			}
		}
	}
	return out, nil
}

func writeExplanation(w io.Writer, ex *match.Explanation, only string) {
	p := ex.Package
	fmt.Fprintf(w, "%s %s (%s)\n", p.Name, p.Version, p.Ecosystem)
	for _, l := range ex.Lookups {
		fmt.Fprintf(w, "  looked up as %s\n", l)
	}
	for _, warn := range ex.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if len(ex.Verdicts) == 0 {
		if only != "" {
			fmt.Fprintf(w, "\n%s has no record for this package in %s: not a finding\n", only, p.Ecosystem)
		} else {
			fmt.Fprintf(w, "\nno advisory in the DB for this package in %s: no finding\n", p.Ecosystem)
		}
		return
	}
	vs := append([]match.Verdict(nil), ex.Verdicts...)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Affected && !vs[j].Affected })
	affected := 0
	for _, v := range vs {
		if v.Affected {
			affected++
		}
	}
	fmt.Fprintf(w, "\n%d of %d advisory records match\n\n", affected, len(vs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VULNERABILITY\tMATCH\tFIX\tSOURCE\tWHY")
	for _, v := range vs {
		m := "no"
		if v.Affected {
			m = "yes"
		}
		src := v.Source
		if v.Advisory != "" {
			src += " " + v.Advisory
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (%s %s)\n", v.VulnID, m, cmp.Or(v.Fix, "-"), src, v.Rule, v.KeyKind, v.Key)
	}
	tw.Flush()
}

// knownEcosystem spells eco as the DB does ("debian:10" -> "Debian:10"),
// and refuses one the DB has no records for: "no advisory, no finding"
// for a typo would be a wrong all-clear. A distribution without release
// (Debian) passes, for the release check to explain.
func knownEcosystem(cmd *cobra.Command, db *vulndb.DB, eco string) (string, error) {
	ecos, err := db.Ecosystems(cmd.Context())
	if err != nil {
		return "", err
	}
	if ecos[eco] {
		return eco, nil
	}
	known := make([]string, 0, len(ecos))
	for e := range ecos {
		if strings.EqualFold(e, eco) {
			return e, nil
		}
		known = append(known, e)
	}
	for e := range ecos {
		if b := ecosystem.Base(e); strings.EqualFold(b, eco) {
			return b, nil
		}
	}
	slices.Sort(known)
	return "", fmt.Errorf("--ecosystem %s: the DB has no advisory for this ecosystem (a typo, or a feed not imported: see vigil db status); it has %s", eco, strings.Join(known, ", "))
}
